import { messagingSystemOf, runOutsideTraces, traceEventPublish } from "@blossom/telemetry";
import { type Kysely, sql } from "kysely";
import type { EventEnvelope } from "../envelope.js";
import type { EventBus } from "../event-bus.js";
import type { MessagingTables } from "../messaging-tables.js";

interface RelayLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface OutboxRelayOptions {
  db: Kysely<MessagingTables>;
  bus: EventBus;
  logger: RelayLogger;
  /**
   * Whether replicas may share this database (PostgreSQL). Then each pass holds a transaction
   * advisory lock so one replica relays at a time and publish order is kept; PGlite is one
   * process, and holding its single connection during a publish would block the service.
   */
  shared: boolean;
  /** The advisory-lock key; one per service database. */
  lockKey?: number;
  batchSize?: number;
  /** How often to look for events when nobody woke the relay (another replica's commit, a retry). */
  pollIntervalMs?: number;
  /**
   * Called at each stage of a batch; the host arms crash points here so tests can kill the
   * process between publishing and marking rows published.
   */
  onStage?: (stage: "before-publish" | "after-publish") => void;
  /** Delay before retrying after a failed publish (the bus is down). Doubles up to 10 s. */
  retryDelayMs?: number;
  /** Called with each batch the bus accepted, once it is marked published (for metrics). */
  onPublished?: (events: EventEnvelope[]) => void;
  /** The publishing service, on the `send` spans. Default `outbox`. */
  service?: string;
}

/** How the relay is doing, for health and metrics. */
export interface RelayStats {
  published: number;
  failures: number;
  lastError?: string;
}

/**
 * Publishes a service's outbox to the bus in `position` order and marks rows published only
 * after the bus accepted them, so a crash at any point means "publish again", never "lost".
 * Consumers dedupe by event id (inbox) and JetStream dedupes by message id, so a republish has
 * no second effect. Wakes when the service commits an event and every `pollIntervalMs`.
 */
export class OutboxRelay {
  readonly stats: RelayStats = { published: 0, failures: 0 };
  #options: Required<Omit<OutboxRelayOptions, "lockKey" | "onStage" | "onPublished" | "service">> &
    Pick<OutboxRelayOptions, "onStage" | "onPublished"> & { lockKey: number; service: string };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  #retryDelay: number;

  constructor(options: OutboxRelayOptions) {
    this.#options = {
      batchSize: 200,
      pollIntervalMs: 1000,
      retryDelayMs: 200,
      lockKey: 7_460_001,
      service: "outbox",
      ...options,
    };
    this.#retryDelay = this.#options.retryDelayMs;
  }

  start(): void {
    this.#stopped = false;
    this.wake();
  }

  /** Asks for a pass now (after a commit that wrote events). Cheap to call often. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    // Not in the trace of the request that woke it: a pass relays many requests' events, each
    // under a `send` span in its own trace.
    this.#running = runOutsideTraces(() => this.#loop()).finally(() => {
      this.#running = undefined;
    });
  }

  /** Publishes everything pending now; rejects if the bus refuses (used on shutdown and in tests). */
  async flush(): Promise<void> {
    await this.#running;
    while ((await this.#pass()) > 0) {}
  }

  /** Stops after the pass in flight; pending events stay in the outbox for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async pending(): Promise<number> {
    const row = await this.#options.db
      .selectFrom("outbox")
      .select((eb) => eb.fn.countAll<string>().as("count"))
      .where("published_at", "is", null)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async #loop(): Promise<void> {
    clearTimeout(this.#timer);
    let delay = this.#options.pollIntervalMs;
    try {
      do {
        this.#again = false;
        while (!this.#stopped && (await this.#pass()) === this.#options.batchSize) {}
      } while (this.#again && !this.#stopped);
      this.#retryDelay = this.#options.retryDelayMs;
    } catch (error) {
      this.stats.failures += 1;
      this.stats.lastError = error instanceof Error ? error.message : String(error);
      this.#options.logger.warn(
        { err: error, retry_in_ms: this.#retryDelay },
        "outbox relay: publish failed, will retry",
      );
      delay = this.#retryDelay;
      this.#retryDelay = Math.min(this.#retryDelay * 2, 10_000);
    }
    if (!this.#stopped) {
      this.#timer = setTimeout(() => this.wake(), delay);
      this.#timer.unref();
    }
  }

  /** One batch: returns how many events it published; rejects with the bus's error. */
  async #pass(): Promise<number> {
    const { db, shared } = this.#options;
    const outcome = shared
      ? await db.transaction().execute(async (trx) => {
          const { rows } = await sql<{
            locked: boolean;
          }>`select pg_try_advisory_xact_lock(${this.#options.lockKey}) as locked`.execute(trx);
          // Another replica holds the lock and is relaying: its order is the order.
          if (!rows[0]?.locked) return { published: 0 };
          return this.#publishBatch(trx);
        })
      : await this.#publishBatch(db);
    // Thrown only now, so the failure count written in the transaction above is committed.
    if (outcome.error !== undefined) throw outcome.error;
    // Reported only now, once the rows marked published are committed.
    if (outcome.events) this.#options.onPublished?.(outcome.events);
    return outcome.published;
  }

  async #publishBatch(
    db: Kysely<MessagingTables>,
  ): Promise<{ published: number; events?: EventEnvelope[]; error?: unknown }> {
    const rows = await db
      .selectFrom("outbox")
      .select(["position", "envelope"])
      .where("published_at", "is", null)
      .orderBy("position")
      .limit(this.#options.batchSize)
      .execute();
    if (rows.length === 0) return { published: 0 };
    const envelopes = rows.map(
      (row) => (typeof row.envelope === "string" ? JSON.parse(row.envelope) : row.envelope) as EventEnvelope,
    );
    const positions = rows.map((row) => row.position);
    try {
      this.#options.onStage?.("before-publish");
      const { bus, service } = this.#options;
      // One `send` span per event, in the trace of the request that wrote it.
      await traceEventPublish(envelopes, service, messagingSystemOf(bus.kind), () => bus.publish(envelopes));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await db
        .updateTable("outbox")
        .set((eb) => ({ attempts: eb("attempts", "+", 1), last_error: message.slice(0, 1000) }))
        .where("position", "in", positions)
        .execute();
      return { published: 0, error };
    }
    this.#options.onStage?.("after-publish");
    await db
      .updateTable("outbox")

      .set({ published_at: new Date() })
      .where("position", "in", positions)
      .execute();
    this.stats.published += rows.length;
    return { published: rows.length, events: envelopes };
  }
}
