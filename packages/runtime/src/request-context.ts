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
}

const storage = new AsyncLocalStorage<RequestContext>();

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
  return headers;
}
