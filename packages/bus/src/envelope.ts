import { randomUUID } from "node:crypto";
import { eventVersion } from "@blossom/event-contracts";
import { type Static, Type } from "@sinclair/typebox";

/**
 * The CloudEvents-shaped envelope every integration event travels in, on every bus adapter.
 * `subject` is the aggregate id (an order id, a user id): consumers that need ordering get the
 * events of one subject in publish order.
 */
export const EventEnvelopeSchema = Type.Object({
  specversion: Type.Literal("1.0"),
  id: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.String({ pattern: "^[a-z][a-z0-9-]*\\.[a-z][a-z0-9-]*\\.v[0-9]+$" }),
  source: Type.String({ minLength: 1 }),
  time: Type.String({ format: "date-time" }),
  subject: Type.String({ minLength: 1, maxLength: 200 }),
  schemaVersion: Type.Integer({ minimum: 1 }),
  data: Type.Unknown(),
  traceparent: Type.Optional(Type.String()),
  tracestate: Type.Optional(Type.String()),
  correlationId: Type.Optional(Type.String()),
});

export type EventEnvelope<T = unknown> = Omit<Static<typeof EventEnvelopeSchema>, "data"> & {
  data: T;
};

export interface NewEvent<T = unknown> {
  type: string;
  subject: string;
  data: T;
  /** Defaults to a random UUID; pass one to make a publish idempotent end to end. */
  id?: string;
  traceparent?: string;
  tracestate?: string;
  correlationId?: string;
}

/** The domain (first segment) of an event type: `orders.order-placed.v1` → `orders`. */
export function eventDomain(type: string): string {
  const dot = type.indexOf(".");
  return dot === -1 ? type : type.slice(0, dot);
}

/** The schema version carried in the type's last segment: `….v2` → 2. */
export function createEnvelope<T>(source: string, event: NewEvent<T>, now = new Date()): EventEnvelope<T> {
  const envelope: EventEnvelope<T> = {
    specversion: "1.0",
    id: event.id ?? randomUUID(),
    type: event.type,
    source,
    time: now.toISOString(),
    subject: event.subject,
    schemaVersion: eventVersion(event.type),
    data: event.data,
  };
  if (event.traceparent) envelope.traceparent = event.traceparent;
  if (event.tracestate) envelope.tracestate = event.tracestate;
  if (event.correlationId) envelope.correlationId = event.correlationId;
  return envelope;
}
