import type { Kysely, Transaction } from "kysely";
import type { EventEnvelope } from "../envelope.js";
import { type AnyServiceDb, asMessagingDb } from "../messaging-tables.js";

export type InboxOutcome = "handled" | "duplicate";

/**
 * Makes a consumer's effect happen once per event id, however often the bus delivers it: the
 * event id is recorded in the `inbox` table in the same transaction as the effect. A redelivery
 * (after a crash before the ack, or a republish from the outbox) finds the id and does nothing.
 * If the effect throws, nothing is recorded and the bus redelivers.
 */
export class Inbox {
  constructor(readonly consumer: string) {}

  async handle<DB extends AnyServiceDb>(
    db: DB,
    event: EventEnvelope,
    effect: (trx: DB extends Kysely<infer T> ? Transaction<T> : never) => Promise<unknown>,
  ): Promise<InboxOutcome> {
    return db.transaction().execute(async (trx) => {
      const inbox = asMessagingDb(trx);
      // On PostgreSQL a concurrent duplicate waits here on the primary key until the first
      // transaction ends, then sees the conflict: the effect never runs twice.
      const recorded = await inbox
        .insertInto("inbox")
        .values({ consumer: this.consumer, event_id: event.id, event_type: event.type })
        .onConflict((conflict) => conflict.columns(["consumer", "event_id"]).doNothing())
        .returning("event_id")
        .executeTakeFirst();
      if (!recorded) return "duplicate";
      await effect(trx as Parameters<typeof effect>[0]);
      return "handled";
    });
  }
}
