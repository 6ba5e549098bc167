import { type Context, context, propagation, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";

/** W3C trace context as carried by an event envelope (CloudEvents distributed-tracing extension). */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** Whether a span (recording or not) is current: then the undici instrumentation propagates it itself. */
export function hasActiveSpan(ctx: Context = context.active()): boolean {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext !== undefined && trace.isSpanContextValid(spanContext);
}

/** The `traceparent`/`tracestate` of `ctx` (default: the active context); empty when tracing is off. */
export function injectTraceContext(ctx: Context = context.active()): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const out: TraceCarrier = {};
  if (carrier.traceparent) out.traceparent = carrier.traceparent;
  if (carrier.tracestate) out.tracestate = carrier.tracestate;
  return out;
}

/** The context a carrier continues (a remote parent), or the root context when it carries none. */
export function extractTraceContext(carrier: TraceCarrier): Context {
  const headers: Record<string, string> = {};
  if (carrier.traceparent) headers.traceparent = carrier.traceparent;
  if (carrier.tracestate) headers.tracestate = carrier.tracestate;
  return propagation.extract(ROOT_CONTEXT, headers);
}

/**
 * The active span's ids for log lines (`trace_id`, `span_id`), or undefined outside any span,
 * so that a log line and the trace it belongs to can be found from each other.
 */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const spanContext = trace.getSpanContext(context.active());
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * Runs `fn` outside any trace, with no span recorded for what it does (its queries, its calls):
 * for background work a request merely woke, such as the outbox relay. Its passes publish the
 * events of many requests at once; their queries would otherwise land in the trace of whichever
 * request happened to wake it, and in a cluster they were a large share of all spans. Spans
 * given an explicit parent (the relay's `send` spans, from each event's own context) still record.
 */
export function runOutsideTraces<T>(fn: () => T): T {
  return context.with(suppressTracing(ROOT_CONTEXT), fn);
}
