import { context, trace } from "@opentelemetry/api";
import { getRPCMetadata, RPCType } from "@opentelemetry/core";
import { ATTR_BLOSSOM_SERVICE } from "./attributes.js";
import { recordError } from "./errors.js";

/**
 * Completes the HTTP server span of the current request with what only the framework knows:
 * the owning service (`blossom.service`) and the route template. The HTTP instrumentation reads
 * the route from its RPC metadata when the response ends, sets `http.route` and renames the span
 * `<METHOD> <route>` — this is Blossom's Fastify instrumentation (no @fastify/otel needed).
 */
export function nameServerSpan(service: string, route: string | undefined): void {
  const active = context.active();
  const span = trace.getSpan(active);
  if (!span) return;
  span.setAttribute(ATTR_BLOSSOM_SERVICE, service);
  const metadata = getRPCMetadata(active);
  if (route && metadata?.type === RPCType.HTTP) metadata.route = route;
}

/** Records an error that became a 5xx on the current request's span (4xx are the caller's, not failures). */
export function recordServerError(error: unknown): void {
  const span = trace.getSpan(context.active());
  if (span) recordError(span, error);
}
