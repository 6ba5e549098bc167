import { Type } from "@sinclair/typebox";

/**
 * The dead-letter routes' parameters and answers (`/api/<service>/dead-letters…`), TypeBox only
 * (a console page takes its types from here).
 */
export const DeadLetterParams = Type.Object({
  id: Type.String({ pattern: "^[A-Za-z0-9-]{1,64}$", description: "the dead letter's id" }),
});

export const DeadLetterListQuery = Type.Object({
  limit: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 50,
    description: "the oldest dead letters first",
  }),
});

const summaryProperties = {
  id: Type.String(),
  consumer: Type.String({ description: "the service whose handler gave up" }),
  eventId: Type.String(),
  eventType: Type.String(),
  subject: Type.String({ description: "the aggregate the event is about (an order id, a user id)" }),
  attempts: Type.Integer({ description: "deliveries tried before giving up" }),
  error: Type.String({ description: "the last attempt's error" }),
  at: Type.String({ format: "date-time", description: "when it was dead-lettered" }),
  correlationId: Type.Union([Type.String(), Type.Null()]),
  traceparent: Type.Union([Type.String(), Type.Null()], {
    description: "the trace of the event's publisher",
  }),
};

export const DeadLetterSummary = Type.Object(summaryProperties);

export const DeadLetterList = Type.Object({ items: Type.Array(DeadLetterSummary) });

export const DeadLetterDetail = Type.Object({
  ...summaryProperties,
  event: Type.Object(
    {
      specversion: Type.String(),
      id: Type.String(),
      type: Type.String(),
      source: Type.String(),
      time: Type.String(),
      subject: Type.String(),
      schemaVersion: Type.Integer(),
      data: Type.Unknown({ description: "the event's data (any credential in it redacted)" }),
    },
    { additionalProperties: true, description: "the event's envelope as published" },
  ),
});

export const DeadLetterOutcome = Type.Object({
  id: Type.String(),
  action: Type.Union([Type.Literal("replayed"), Type.Literal("discarded")]),
  repeated: Type.Boolean({
    description: "true when this dead letter had already been replayed or discarded: nothing was done again",
  }),
  eventId: Type.Union([Type.String(), Type.Null()]),
  eventType: Type.Union([Type.String(), Type.Null()]),
});
