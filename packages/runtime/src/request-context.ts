import { AsyncLocalStorage } from "node:async_hooks";
import { hasActiveSpan } from "@blossom/telemetry";

/**
 * What a request carries that outgoing calls and published events must carry on:
 * the ids that tie logs together and the caller's credentials.
 */
export interface RequestContext {
  requestId: string;
  correlationId: string;
  traceparent?: string;
  tracestate?: string;
  authorization?: string;
  /** The signed-in user, once authentication has verified the token (for log lines). */
  userId?: string;
  /**
   * When the caller stops waiting, in this process's `Date.now()` time, from the request's
   * `x-request-timeout` (request-deadline.ts); undefined when it sent none.
   */
  deadline?: number;
}

const storage = new AsyncLocalStorage<RequestContext>();

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's `X-Request-Id` or `X-Correlation-Id` when it is safe to log and echo, else undefined. */
export function safeIdHeader(value: string | string[] | undefined): string | undefined {
  const single = Array.isArray(value) ? value[0] : value;
  return single && SAFE_ID.test(single) ? single : undefined;
}

/** The correlation id of a request: the caller's when safe, else the request's own id. */
export function correlationIdOf(request: {
  id: string;
  headers: Record<string, string | string[] | undefined>;
}): string {
  return safeIdHeader(request.headers["x-correlation-id"]) ?? request.id;
}

/** Runs `fn` with `context` as the current request context (also across awaits). */
export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The current request's context, or undefined outside of a request or event handler. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Headers to forward on a service-to-service call made while handling the current request. */
export function propagationHeaders(context = currentContext()): Record<string, string> {
  if (!context) return {};
  const headers: Record<string, string> = {
    "x-request-id": context.requestId,
    "x-correlation-id": context.correlationId,
  };
  // With tracing on, the HTTP client instrumentation sends the current span's context itself:
  // forwarding the caller's header as well would send two. Off, the caller's context travels on.
  if (!hasActiveSpan()) {
    if (context.traceparent) headers.traceparent = context.traceparent;
    if (context.tracestate) headers.tracestate = context.tracestate;
  }
  if (context.authorization) headers.authorization = context.authorization;
  // What is left of the caller's budget goes on, so the next service does not start work the
  // caller will no longer wait for (see request-deadline.ts).
  if (context.deadline !== undefined)
    headers["x-request-timeout"] = String(Math.max(0, context.deadline - Date.now()));
  return headers;
}
