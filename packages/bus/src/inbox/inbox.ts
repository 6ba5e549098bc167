import { AsyncResource } from "node:async_hooks";
import type { Kysely, Transaction } from "kysely";
import type { EventEnvelope } from "../envelope.js";
import { type AnyServiceDb, asMessagingDb } from "../messaging-tables.js";

export type InboxOutcome = "handled" | "duplicate";

/** An effect, given the transaction that records its event in the inbox. */
type Effect<DB extends AnyServiceDb> = (
  trx: DB extends Kysely<infer T> ? Transaction<T> : never,
) => Promise<unknown>;

export interface InboxOptions {
  /**
   * Events handled in one transaction at most (default 1: a transaction per event). Above 1,
   * events that arrive while a transaction of this inbox runs wait for it, then go together in
   * the next one: one inbox statement and one commit for all of them (group commit).
   */
  maxBatch?: number;
  /**
   * Called in the transaction of a batch of more than one event: `started` before the first
   * effect, `finishing` after the last one, before the commit (where the outbox stores the
   * batch's events in one statement: `Outbox.deferWrites`, `Outbox.flushDeferred`).
   */
  batchHooks?: {
    started(trx: Transaction<unknown>): void;
    finishing(trx: Transaction<unknown>): Promise<void>;
  };
}

/** A `handle` call waiting for its turn in a batch. */
interface Waiting {
  db: AnyServiceDb;
  event: EventEnvelope;
  effect: (trx: Transaction<unknown>) => Promise<unknown>;
  /**
   * The async context of the `handle` call (its trace, correlation and logs), to run its effect in.
   * An AsyncResource and not `AsyncLocalStorage.snapshot()`: on Node 20 a snapshot binds a function
   * through `AsyncResource.bind`, which wraps two deprecated accessors per call (0.7 % of the
   * embedded platform's main thread under checkout load, in one profile); this is the same context.
   */
  context: AsyncResource;
  resolve: (outcome: InboxOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Makes a consumer's effect happen once per event id, however often the bus delivers it: the
 * event id is recorded in the `inbox` table in the same transaction as the effect. A redelivery
 * (after a crash before the ack, or a republish from the outbox) finds the id and does nothing.
 * If the effect throws, nothing is recorded and the bus redelivers.
 *
 * With `maxBatch` above 1, several events share a transaction, and the promise of each resolves
 * only once that transaction committed, so a bus acknowledges nothing that could still be lost.
 * If any effect of a batch throws, the whole batch rolls back and each of its events is handled
 * again alone: the failure stays with its own event, and the others take effect after all.
 * Why: on the embedded store, where one connection runs every transaction in turn, a checkout's
 * seven events each paid for an inbox insert and a commit of their own.
 */
export class Inbox {
  readonly #maxBatch: number;
  readonly #hooks: InboxOptions["batchHooks"];
  #waiting: Waiting[] = [];
  #draining = false;

  constructor(
    readonly consumer: string,
    options: InboxOptions = {},
  ) {
    const maxBatch = options.maxBatch ?? 1;
    if (!Number.isInteger(maxBatch) || maxBatch < 1)
      throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    this.#maxBatch = maxBatch;
    this.#hooks = options.batchHooks;
  }

  handle<DB extends AnyServiceDb>(db: DB, event: EventEnvelope, effect: Effect<DB>): Promise<InboxOutcome> {
    if (this.#maxBatch === 1) return this.#handleAlone(db, event, effect as Waiting["effect"]);
    return new Promise<InboxOutcome>((resolve, reject) => {
      this.#waiting.push({
        db,
        event,
        effect: effect as Waiting["effect"],
        context: new AsyncResource("blossom.inbox.delivery"),
        resolve,
        reject,
      });
      if (this.#draining) return;
      this.#draining = true;
      // A microtask later, so that deliveries handed over in the same turn start out together.
      queueMicrotask(() => void this.#drain());
    });
  }

  async #handleAlone(
    db: AnyServiceDb,
    event: EventEnvelope,
    effect: Waiting["effect"],
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
      await effect(trx);
      return "handled";
    });
  }

  /** Runs batches one after another until nobody waits. */
  async #drain(): Promise<void> {
    try {
      for (let batch = this.#takeBatch(); batch.length > 0; batch = this.#takeBatch()) {
        if (batch.length === 1) await this.#runAlone(batch[0] as Waiting);
        else await this.#runBatch(batch);
      }
    } finally {
      this.#draining = false;
    }
  }

  /**
   * The oldest waiting calls on the same database, up to `maxBatch`, each event id once: a second
   * delivery of an id waits for the next batch, where the inbox finds the first one's record.
   */
  #takeBatch(): Waiting[] {
    const first = this.#waiting[0];
    if (first === undefined) return [];
    const batch: Waiting[] = [];
    const ids = new Set<string>();
    const rest: Waiting[] = [];
    for (const waiting of this.#waiting) {
      if (batch.length < this.#maxBatch && waiting.db === first.db && !ids.has(waiting.event.id)) {
        batch.push(waiting);
        ids.add(waiting.event.id);
      } else rest.push(waiting);
    }
    this.#waiting = rest;
    return batch;
  }

  async #runAlone(waiting: Waiting): Promise<void> {
    try {
      waiting.resolve(
        await waiting.context.runInAsyncScope(() =>
          this.#handleAlone(waiting.db, waiting.event, waiting.effect),
        ),
      );
    } catch (error) {
      waiting.reject(error);
    }
  }

  async #runBatch(batch: Waiting[]): Promise<void> {
    const db = (batch[0] as Waiting).db;
    let outcomes: InboxOutcome[];
    try {
      outcomes = await db.transaction().execute(async (trx) => {
        const recorded = await asMessagingDb(trx)
          .insertInto("inbox")
          .values(
            batch.map(({ event }) => ({
              consumer: this.consumer,
              event_id: event.id,
              event_type: event.type,
            })),
          )
          .onConflict((conflict) => conflict.columns(["consumer", "event_id"]).doNothing())
          .returning("event_id")
          .execute();
        const fresh = new Set(recorded.map((row) => row.event_id));
        this.#hooks?.started(trx);
        const handled: InboxOutcome[] = [];
        // One after another: the effects share the transaction's one connection.
        for (const waiting of batch) {
          if (!fresh.has(waiting.event.id)) {
            handled.push("duplicate");
            continue;
          }
          await waiting.context.runInAsyncScope(() => waiting.effect(trx));
          handled.push("handled");
        }
        await this.#hooks?.finishing(trx);
        return handled;
      });
    } catch {
      // Nothing of the batch took effect. Each event again on its own: whichever failed fails
      // alone (its caller sees its own error), and the others are not held back by it.
      for (const waiting of batch) await this.#runAlone(waiting);
      return;
    }
    batch.forEach((waiting, index) => {
      waiting.resolve(outcomes[index] as InboxOutcome);
    });
  }
}
