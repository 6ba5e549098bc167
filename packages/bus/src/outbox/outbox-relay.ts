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
 * A row younger than this is left to the fast path by the periodic passes: they are there for
 * what the fast path could not publish (a crash after the commit, a failed publish), and racing
 * it for every fresh row would only publish it twice.
 */
const FRESH_ROW_GRACE = sql<Date>`now() - interval '2 seconds'`;

/**
 * How long the fast path gathers published events before marking them in one statement. On the
 * embedded default a checkout writes about 8 events, and marking each alone was 8 of its ~80
 * statements; a crash in this window only means those events are published again (deduplicated).
 */
const MARK_DELAY_MS = 20;

/**
 * Publishes a service's outbox to the bus and marks rows published only after the bus accepted
 * them, so a crash at any point means "publish again", never "lost". Consumers dedupe by event id
 * (inbox) and JetStream dedupes by message id, so a republish has no second effect.
 *
 * Two paths:
 * - the fast path (`committed`): the events of a transaction that just committed in this process
 *   are published at once, in commit order, then marked by id — no lock, no look-up (a pass is 5
 *   statements on PostgreSQL). Marking does not hold up the next publish: the ids published
 *   within MARK_DELAY_MS are marked together, so under load many events cost one statement (an
 *   event published but not yet marked when the process dies is published again by a pass, and
 *   deduplicated by its consumers' inboxes);
 * - passes, in `position` order, one replica at a time on a shared database: at start, every
 *   `pollIntervalMs` for rows the fast path left behind (older than a grace period: a crashed
 *   replica's, a failed publish's), and after a failed publish, when everything pending goes
 *   through passes (the fast path is off) until a pass succeeds, so nothing overtakes what failed.
 */
export class OutboxRelay {
  readonly stats: RelayStats = { published: 0, failures: 0 };
  #options: Required<Omit<OutboxRelayOptions, "lockKey" | "onStage" | "onPublished" | "service">> &
    Pick<OutboxRelayOptions, "onStage" | "onPublished"> & { lockKey: number; service: string };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Work under way (the loop, the fast path, `flush()`'s passes): `stop()` waits for all of it. */
  readonly #inFlight = new Set<Promise<unknown>>();
  #stopping: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  #retryDelay: number;
  /** Committed events waiting for the fast path, in commit order. */
  #fresh: EventEnvelope[] = [];
  #draining: Promise<void> | undefined;
  /** Published by the fast path, not yet marked published, in publish order. */
  #unmarked: EventEnvelope[] = [];
  #marking: Promise<void> | undefined;
  /** The pass under way (or done): the next one starts after it. */
  #passing: Promise<void> = Promise.resolve();
  /**
   * Whether passes take every pending row, fresh ones included: at start (what a previous run
   * left) and after a failed publish (the fast path is off until a pass succeeds).
   */
  #sweepAll = true;
  /** Counts fast-path failures, so a pass that began before one does not clear `#sweepAll`. */
  #failedDrains = 0;

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
    this.#stopping = undefined;
    this.#sweepAll = true;
    this.wake();
  }

  /**
   * The fast path: `events` were written by a transaction of this process that has just
   * committed; they are published now and marked published by id. After a failed publish, and
   * until a pass succeeds, they go through passes instead (in position order).
   */
  committed(events: readonly EventEnvelope[]): void {
    if (this.#stopped || events.length === 0) return;
    if (this.#sweepAll) {
      this.wake();
      return;
    }
    this.#fresh.push(...events);
    // Not in the trace of the request that committed them: each event has its own `send` span.
    this.#draining ??= this.#track(runOutsideTraces(() => this.#drain())).finally(() => {
      this.#draining = undefined;
    });
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
    this.#running = this.#track(runOutsideTraces(() => this.#loop())).finally(() => {
      this.#running = undefined;
    });
  }

  /** Publishes everything pending now; rejects if the bus refuses (used on shutdown and in tests). */
  flush(): Promise<void> {
    return this.#track(this.#flush());
  }

  async #flush(): Promise<void> {
    await this.#draining;
    // Else a pass would publish again what the fast path published but has not marked yet.
    await this.#marking;
    await this.#running;
    while ((await this.#pass(true)) > 0) {}
  }

  /**
   * Stops after the work in flight (the loop's pass, the fast path's batch, a `flush()` pass) and
   * clears the poll timer: once it resolves, the relay runs no query and holds no timer, so the
   * database may be closed. Pending events stay in the outbox for the next start. Never rejects.
   */
  stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Events still waiting for the fast path stay in the outbox, for the next start.
    this.#fresh = [];
    this.#stopping ??= (async () => {
      // Until nothing is left: work that ends may have started more (a failed batch wakes the loop).
      // No timer is armed again: the loop arms one only while the relay is not stopped.
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    })();
    return this.#stopping;
  }

  async pending(): Promise<number> {
    const row = await this.#options.db
      .selectFrom("outbox")
      .select((eb) => eb.fn.countAll<string>().as("count"))
      .where("published_at", "is", null)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Registers work so that `stop()` waits for it; returns the same promise. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    const done = () => this.#inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  async #loop(): Promise<void> {
    clearTimeout(this.#timer);
    let delay = this.#options.pollIntervalMs;
    try {
      // What the fast path published is marked first: a pass must not publish it again.
      await this.#marking;
      do {
        this.#again = false;
        const all = this.#sweepAll;
        const failedDrains = this.#failedDrains;
        while (!this.#stopped && (await this.#pass(all)) === this.#options.batchSize) {}
        // Everything that was pending has gone: the fast path may publish again.
        if (all && failedDrains === this.#failedDrains) this.#sweepAll = false;
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

  /** Publishes what `committed` queued, batch by batch; on failure, hands over to passes. */
  async #drain(): Promise<void> {
    const { batchSize } = this.#options;
    while (this.#fresh.length > 0 && !this.#stopped) {
      const batch = this.#fresh.splice(0, batchSize);
      try {
        await this.#publish(batch);
      } catch (error) {
        // The rows are still unpublished: passes take them, and what follows, in position order.
        this.#fresh = [];
        this.#sweepAll = true;
        this.#failedDrains += 1;
        this.stats.failures += 1;
        this.stats.lastError = error instanceof Error ? error.message : String(error);
        this.#options.logger.warn({ err: error }, "outbox relay: publish failed, passes will retry");
        this.wake();
        return;
      }
      this.#options.onStage?.("after-publish");
      this.#markLater(batch);
    }
  }

  /**
   * Queues `batch` to be marked published within MARK_DELAY_MS, with whatever else is published
   * meanwhile: one statement for many events. Far below FRESH_ROW_GRACE, so a pass never takes
   * an event that is only waiting to be marked.
   */
  #markLater(batch: EventEnvelope[]): void {
    this.#unmarked.push(...batch);
    this.#marking ??= this.#track(
      new Promise<void>((wait) => setTimeout(wait, MARK_DELAY_MS)).then(() => this.#markAll()),
    ).finally(() => {
      this.#marking = undefined;
    });
  }

  /** Marks what was published, one statement per batch (runs on after stop() so nothing is left unmarked). */
  async #markAll(): Promise<void> {
    const { db, batchSize } = this.#options;
    while (this.#unmarked.length > 0) {
      const batch = this.#unmarked.splice(0, batchSize);
      try {
        await db
          .updateTable("outbox")
          .set({ published_at: new Date() })
          .where(
            "id",
            "in",
            batch.map((event) => event.id),
          )
          .execute();
      } catch (error) {
        // Published but not marked: a pass publishes them again (deduplicated downstream).
        this.#options.logger.warn({ err: error }, "outbox relay: could not mark events published");
        continue;
      }
      this.stats.published += batch.length;
      this.#options.onPublished?.(batch);
    }
  }

  async #publish(envelopes: EventEnvelope[]): Promise<void> {
    this.#options.onStage?.("before-publish");
    const { bus, service } = this.#options;
    // One `send` span per event, in the trace of the request that wrote it.
    await traceEventPublish(envelopes, service, messagingSystemOf(bus.kind), () => bus.publish(envelopes));
  }

  /**
   * One batch in position order: returns how many events it published; rejects with the bus's
   * error. `all`: fresh rows too (else they are the fast path's).
   */
  #pass(all: boolean): Promise<number> {
    // One pass at a time in this relay: `flush()` and a retry timer's loop could otherwise both
    // take the same unpublished rows (on PGlite no advisory lock separates them) and publish twice.
    const turn = this.#passing.then(() => this.#passNow(all));
    this.#passing = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  async #passNow(all: boolean): Promise<number> {
    const { db, shared } = this.#options;
    const outcome = shared
      ? await db.transaction().execute(async (trx) => {
          const { rows } = await sql<{
            locked: boolean;
          }>`select pg_try_advisory_xact_lock(${this.#options.lockKey}) as locked`.execute(trx);
          // Another replica holds the lock and is relaying: its order is the order.
          if (!rows[0]?.locked) return { published: 0 };
          return this.#publishBatch(trx, all);
        })
      : await this.#publishBatch(db, all);
    // Thrown only now, so the failure count written in the transaction above is committed.
    if (outcome.error !== undefined) throw outcome.error;
    // Reported only now, once the rows marked published are committed.
    if (outcome.events) this.#options.onPublished?.(outcome.events);
    return outcome.published;
  }

  async #publishBatch(
    db: Kysely<MessagingTables>,
    all: boolean,
  ): Promise<{ published: number; events?: EventEnvelope[]; error?: unknown }> {
    let query = db.selectFrom("outbox").select(["position", "envelope"]).where("published_at", "is", null);
    if (!all) query = query.where("created_at", "<", FRESH_ROW_GRACE);
    const rows = await query.orderBy("position").limit(this.#options.batchSize).execute();
    if (rows.length === 0) return { published: 0 };
    const envelopes = rows.map(
      (row) => (typeof row.envelope === "string" ? JSON.parse(row.envelope) : row.envelope) as EventEnvelope,
    );
    const positions = rows.map((row) => row.position);
    try {
      await this.#publish(envelopes);
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
