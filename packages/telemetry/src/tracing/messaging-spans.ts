import { type Attributes, context, type Span, SpanKind, trace } from "@opentelemetry/api";
import { ATTR_BLOSSOM_SERVICE } from "./attributes.js";
import { recordError } from "./errors.js";
import {
  extractTraceContext,
  hasActiveSpan,
  injectTraceContext,
  type TraceCarrier,
} from "./trace-context.js";

const tracer = () => trace.getTracer("@blossom/bus", "0.1.0");

/** The event an operation is about: enough for the messaging.* attributes. */
export interface TracedEvent extends TraceCarrier {
  id: string;
  type: string;
}

function messagingAttributes(
  event: TracedEvent,
  operation: "create" | "send" | "process",
  service: string,
  system: string | undefined,
): Attributes {
  return {
    // The event type is the destination: one subject per type on NATS, one topic in memory.
    "messaging.destination.name": event.type,
    "messaging.message.id": event.id,
    "messaging.operation.type": operation,
    "messaging.operation.name": operation,
    ...(system ? { "messaging.system": system } : {}),
    [ATTR_BLOSSOM_SERVICE]: service,
  };
}

/**
 * Records that `service` created `event` (a `<type> create` PRODUCER span, ended at once) and
 * returns the trace context to store in its envelope, so the consumer continues this trace with
 * the create span as parent. The parent is the active span (the request or event being handled);
 * without one, `fallback` (the caller's `traceparent` kept by the request context). With tracing
 * off this returns `fallback` unchanged: the trace context of the caller still travels on.
 */
export function traceEventCreation(
  event: TracedEvent,
  service: string,
  system: string | undefined,
  fallback: TraceCarrier = {},
): TraceCarrier {
  const active = context.active();
  const parent = hasActiveSpan(active) ? active : extractTraceContext(fallback);
  const span = tracer().startSpan(
    `${event.type} create`,
    { kind: SpanKind.PRODUCER, attributes: messagingAttributes(event, "create", service, system) },
    parent,
  );
  span.end();
  const injected = injectTraceContext(trace.setSpan(parent, span));
  return injected.traceparent ? injected : fallback;
}

/**
 * Runs `publish` (one batch to the bus) inside a `<type> send` PRODUCER span per event, each a
 * child of the context stored in its envelope: the relay publishes in the background, long after
 * the request, yet its work appears in the request's trace.
 */
export async function traceEventPublish<T>(
  events: readonly TracedEvent[],
  service: string,
  system: string | undefined,
  publish: () => Promise<T>,
): Promise<T> {
  const spans: Span[] = events.map((event) =>
    tracer().startSpan(
      `${event.type} send`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          ...messagingAttributes(event, "send", service, system),
          "messaging.batch.message_count": events.length,
        },
      },
      extractTraceContext(event),
    ),
  );
  try {
    return await publish();
  } catch (error) {
    for (const span of spans) recordError(span, error);
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}

/**
 * Runs a consumer's handling of `event` inside a `<type> process` CONSUMER span whose parent is
 * the publisher's context from the envelope, so one checkout is one trace across the bus. The
 * handler's own work (database, HTTP calls, events it publishes) nests under this span.
 */
export async function traceEventProcessing<T>(
  event: TracedEvent,
  consumer: string,
  system: string | undefined,
  attempt: number,
  handle: () => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(
    `${event.type} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...messagingAttributes(event, "process", consumer, system),
        "messaging.consumer.group.name": consumer,
        "messaging.message.delivery_attempt": attempt,
      },
    },
    extractTraceContext(event),
  );
  try {
    return await context.with(trace.setSpan(extractTraceContext(event), span), handle);
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}
