import { randomUUID } from "node:crypto";
import type { EventContract } from "@blossom/event-contracts";
import { traceEventCreation } from "@blossom/telemetry";
import type { Static, TObject } from "@sinclair/typebox";
import type { Insertable } from "kysely";
import { createEnvelope, type EventEnvelope } from "../envelope.js";
import { type AnyServiceDb, asMessagingDb, type MessagingTables } from "../messaging-tables.js";

/** An outbox row as `add` writes it. */
type OutboxRow = Insertable<MessagingTables["outbox"]>;

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
  /** Rows of transactions that store their events together at the end (`deferWrites`). */
  #deferred = new WeakMap<object, OutboxRow[]>();

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
    const row: OutboxRow = {
      id: envelope.id,
      type: envelope.type,
      subject,
      envelope: JSON.stringify(envelope),
      published_at: null,
      last_error: null,
    };
    const deferred = this.#deferred.get(trx);
    if (deferred) deferred.push(row);
    else await db.insertInto("outbox").values(row).execute();
    // Outside a transaction the row is committed already; the relay's passes find it.
    if (db.isTransaction) {
      const written = this.#written.get(trx) ?? [];
      written.push(envelope);
      this.#written.set(trx, written);
    }
    return envelope;
  }

  /**
   * From now on, the events added in the transaction `trx` are stored all at once, in the order
   * they were added, by `flushDeferred(trx)`, which must run before it commits (else they are
   * lost with it). For a transaction that handles a batch of events (the inbox's): one insert
   * for all the events their effects write.
   */
  deferWrites(trx: AnyServiceDb): void {
    if (!this.#deferred.has(trx)) this.#deferred.set(trx, []);
  }

  /** Stores the events held back in `trx` since `deferWrites(trx)`, in one statement, in order. */
  async flushDeferred(trx: AnyServiceDb): Promise<void> {
    const rows = this.#deferred.get(trx);
    this.#deferred.delete(trx);
    if (rows === undefined || rows.length === 0) return;
    await asMessagingDb(trx).insertInto("outbox").values(rows).execute();
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
