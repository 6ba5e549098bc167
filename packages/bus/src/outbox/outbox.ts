import { randomUUID } from "node:crypto";
import type { EventContract } from "@blossom/event-contracts";
import { traceEventCreation } from "@blossom/telemetry";
import type { Static, TObject } from "@sinclair/typebox";
import { createEnvelope, type EventEnvelope } from "../envelope.js";
import { type AnyServiceDb, asMessagingDb } from "../messaging-tables.js";

/** Trace and correlation ids to stamp on events written while handling a request or an event. */
export interface OutboxContext {
  correlationId?: string;
  traceparent?: string;
  tracestate?: string;
}

/**
 * Writes a service's integration events into its own `outbox` table, inside the caller's
 * transaction, so an event exists if and only if the state change that caused it committed.
 * Only the contracts the service declared it publishes are accepted, and their data is
 * validated here, before anything is stored.
 */
export class Outbox {
  #contracts: Map<string, EventContract>;
  /** Envelopes written in each open transaction, for the relay's fast path once it commits. */
  #written = new WeakMap<object, EventEnvelope[]>();

  constructor(
    readonly source: string,
    contracts: EventContract[],
    readonly context: () => OutboxContext | undefined = () => undefined,
    /** `messaging.system` of the bus the events will travel on (see `messagingSystemOf`), for spans. */
    readonly messagingSystem?: string,
  ) {
    this.#contracts = new Map(contracts.map((contract) => [contract.type, contract]));
  }

  /** Validates and stores one event; returns the envelope as it will be published. */
  async add<S extends TObject>(
    trx: AnyServiceDb,
    contract: EventContract<S>,
    subject: string,
    data: Static<S>,
    options: { id?: string } = {},
  ): Promise<EventEnvelope<Static<S>>> {
    if (this.#contracts.get(contract.type) !== contract) {
      throw new Error(`${this.source} does not declare that it publishes ${contract.type}`);
    }
    const parsed = contract.parse(data);
    const { correlationId, ...callerTrace } = this.context() ?? {};
    const id = options.id ?? randomUUID();
    // The envelope carries the context of a `create` span of the current request or event: the
    // relay and every consumer continue that trace, however much later they run.
    const traceContext = traceEventCreation(
      { id, type: contract.type },
      this.source,
      this.messagingSystem,
      callerTrace,
    );
    const envelope = createEnvelope(this.source, {
      type: contract.type,
      subject,
      data: parsed,
      id,
      ...(correlationId ? { correlationId } : {}),
      ...traceContext,
    });
    const db = asMessagingDb(trx);
    await db
      .insertInto("outbox")
      .values({
        id: envelope.id,
        type: envelope.type,
        subject,
        envelope: JSON.stringify(envelope),
        published_at: null,
        last_error: null,
      })
      .execute();
    // Outside a transaction the row is committed already; the relay's passes find it.
    if (db.isTransaction) {
      const written = this.#written.get(trx) ?? [];
      written.push(envelope);
      this.#written.set(trx, written);
    }
    return envelope;
  }

  /**
   * The events written in `trx`, once it has committed (for `OutboxRelay.committed`); forgets
   * them. A rolled-back transaction's are simply never taken.
   */
  takeWritten(trx: object): EventEnvelope[] {
    const written = this.#written.get(trx) ?? [];
    this.#written.delete(trx);
    return written;
  }
}
