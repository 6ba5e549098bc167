/**
 * Events per second through the transactional path (publisher transaction with an outbox row →
 * OutboxRelay → bus → consumer handler recording the effect through the inbox), for the memory
 * and NATS buses, against baselines measured in the same run: the raw bus (publish → no-op
 * handler) and raw store writes (the same transactions without an outbox or a bus).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  asMessagingDb,
  createEnvelope,
  defineEvent,
  type EventBus,
  type EventHandler,
  Inbox,
  MemoryBus,
  type MessagingTables,
  messagingMigrations,
  Outbox,
  OutboxRelay,
} from "@blossom/bus";
import {
  dropPostgresDatabase,
  ensurePostgresDatabase,
  type Migrations,
  migrateToLatest,
  openStore,
  type Store,
  withDatabaseName,
} from "@blossom/store";
import { Type } from "@sinclair/typebox";
import {
  type BenchOptions,
  type BenchResult,
  type Cell,
  errorMessage,
  loadLine,
  machine,
  median,
  ratio,
  table,
  withTimeout,
} from "./report.js";
import { benchServers } from "./settings.js";

const { nats: NATS_URL, postgres: POSTGRES_URL } = benchServers();
/** Events written per publisher transaction (each: one state row + one outbox row). */
const TX_SIZE = 50;
/** OutboxRelay batch size (its default), also the raw bus publish batch size. */
const BATCH = 200;
/** Consumer handlers in flight (the bus default). */
const CONCURRENCY = 8;

const ItemRecorded = defineEvent(
  "bench.item-recorded.v1",
  Type.Object({ itemId: Type.String(), n: Type.Integer(), note: Type.String() }),
  "Benchmark: an item was recorded.",
);

const NOTE = "a benchmark event with a payload of roughly realistic size: ".padEnd(96, "x");
const item = (i: number) => ({ itemId: `item-${i}`, n: i, note: NOTE });

interface PublisherDB extends MessagingTables {
  bench_items: { id: string; n: number; note: string };
}

interface ConsumerDB extends MessagingTables {
  bench_effects: { event_id: string; item_id: string; n: number };
}

const publisherMigrations: Migrations = {
  ...messagingMigrations,
  "0001_bench_items": {
    async up(db) {
      await db.schema
        .createTable("bench_items")
        .addColumn("id", "text", (column) => column.primaryKey())
        .addColumn("n", "integer", (column) => column.notNull())
        .addColumn("note", "text", (column) => column.notNull())
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("bench_items").execute();
    },
  },
};

const consumerMigrations: Migrations = {
  ...messagingMigrations,
  "0001_bench_effects": {
    async up(db) {
      await db.schema
        .createTable("bench_effects")
        .addColumn("event_id", "text", (column) => column.primaryKey())
        .addColumn("item_id", "text", (column) => column.notNull())
        .addColumn("n", "integer", (column) => column.notNull())
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("bench_effects").execute();
    },
  },
};

const relayLogger = {
  info() {},
  warn(obj: object, msg?: string) {
    process.stderr.write(
      `events: relay warning: ${msg ?? ""} ${errorMessage((obj as { err?: unknown }).err)}\n`,
    );
  },
  error(obj: object, msg?: string) {
    process.stderr.write(
      `events: relay error: ${msg ?? ""} ${errorMessage((obj as { err?: unknown }).err)}\n`,
    );
  },
};

const uniqueId = () => randomBytes(5).toString("hex");

/** Fresh, migrated databases: PGlite directories under one temp dir, or PostgreSQL databases dropped at the end. */
class Databases {
  readonly #opened: Store<unknown>[] = [];
  readonly #databases: string[] = [];
  #count = 0;

  readonly #dir: string;

  private constructor(
    readonly kind: "pglite" | "postgres",
    dir: string,
  ) {
    this.#dir = dir;
  }

  static async create(kind: "pglite" | "postgres"): Promise<Databases> {
    const dir = await mkdtemp(join(tmpdir(), "blossom-bench-events-"));
    const databases = new Databases(kind, dir);
    try {
      // Reachability first, so an absent server is reported once and plainly.
      if (kind === "postgres") await databases.open("probe", messagingMigrations);
    } catch (error) {
      await databases.cleanup();
      throw error;
    }
    return databases;
  }

  async open<DB>(service: string, migrations: Migrations): Promise<Store<DB>> {
    const name = `${service}_${++this.#count}`;
    let databaseUrl: string | undefined;
    if (this.kind === "postgres") {
      const database = `bench_${process.pid}_${name}`;
      await ensurePostgresDatabase(POSTGRES_URL, database);
      this.#databases.push(database);
      databaseUrl = withDatabaseName(POSTGRES_URL, database);
    }
    const store = await openStore<DB>({ service: name, dataDir: this.#dir, databaseUrl });
    this.#opened.push(store as Store<unknown>);
    await migrateToLatest(store, migrations);
    return store;
  }

  /** Closes whatever is still open, drops the databases and removes the temp dir. */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.#opened.map((store) => store.close()));
    for (const database of this.#databases) {
      await dropPostgresDatabase(POSTGRES_URL, database).catch((error: unknown) => {
        process.stderr.write(`events: could not drop database ${database}: ${errorMessage(error)}\n`);
      });
    }
    await rm(this.#dir, { recursive: true, force: true });
  }
}

type BusKind = "memory" | "nats";

/** A publisher's and a consumer's bus: one shared in-process bus, or two NATS connections on a fresh prefix. */
interface Buses {
  publisher: EventBus;
  consumer: EventBus;
  close(): Promise<void>;
}

async function openBuses(kind: BusKind): Promise<Buses> {
  if (kind === "memory") {
    const bus = new MemoryBus();
    return { publisher: bus, consumer: bus, close: () => bus.close() };
  }
  const { NatsBus } = await import("@blossom/bus/nats");
  const prefix = `bench${uniqueId()}`;
  const connect = (name: string) =>
    withTimeout(NatsBus.connect({ url: NATS_URL, prefix, name }), 10_000, `cannot connect to ${NATS_URL}`);
  const publisher = await connect("bench-publisher");
  const consumer = await connect("bench-consumer").catch(async (error: unknown) => {
    await publisher.close();
    throw error;
  });
  return {
    publisher,
    consumer,
    async close() {
      await consumer.close();
      try {
        await publisher.destroyStreams();
      } finally {
        await publisher.close();
      }
    },
  };
}

/** Resolves when `count()` reaches `n`. */
function counter(n: number) {
  let count = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  return {
    all,
    add() {
      count += 1;
      if (count === n) done();
    },
    get count() {
      return count;
    },
  };
}

interface Sample {
  seconds: number;
  perSecond: number;
  [detail: string]: number;
}

const timeout = (n: number) => Math.max(60_000, n * 40);

/**
 * The longest the event loop went without turning (ms) until `stop()`. PGlite runs each query
 * synchronously and hands results back through promises, so a busy PGlite process can go long
 * without timers or I/O: anything else in that process (HTTP, NATS acks) waits that long.
 */
function stallMonitor(): { stop(): number } {
  // A ticker rather than perf_hooks' monitorEventLoopDelay: that one records nothing while the
  // loop never turns, so a stall lasting the whole measurement would read as 0.
  let last = performance.now();
  let worst = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 10);
  return {
    stop() {
      clearInterval(ticker);
      return Math.max(worst, performance.now() - last);
    },
  };
}

/** N rows in transactions of TX_SIZE, with the outbox row each event adds, or without (raw store). */
async function storeWrites(databases: Databases, n: number, withOutbox: boolean): Promise<Sample> {
  const store = await databases.open<PublisherDB>("writes", publisherMigrations);
  const outbox = new Outbox("bench-publisher", [ItemRecorded]);
  try {
    const stalls = stallMonitor();
    const started = performance.now();
    for (let first = 0; first < n; first += TX_SIZE) {
      await store.db.transaction().execute(async (trx) => {
        for (let i = first; i < Math.min(n, first + TX_SIZE); i++) {
          const data = item(i);
          await trx.insertInto("bench_items").values({ id: data.itemId, n: i, note: data.note }).execute();
          if (withOutbox) await outbox.add(trx, ItemRecorded, data.itemId, data);
        }
      });
    }
    const seconds = (performance.now() - started) / 1000;
    return { seconds, perSecond: n / seconds, loopStallMs: stalls.stop() };
  } finally {
    await store.close();
  }
}

/** N envelopes published in batches of BATCH straight to the bus, handled by a no-op consumer. */
async function rawBus(kind: BusKind, n: number): Promise<Sample> {
  const buses = await openBuses(kind);
  try {
    const seen = new Set<string>();
    const handled = counter(n);
    const subscription = await buses.consumer.subscribe(
      "bench-raw",
      [ItemRecorded.type],
      async (event) => {
        if (seen.has(event.id)) return;
        seen.add(event.id);
        handled.add();
      },
      { concurrency: CONCURRENCY },
    );
    const envelopes = Array.from({ length: n }, (_, i) =>
      createEnvelope("bench-publisher", { type: ItemRecorded.type, subject: `item-${i}`, data: item(i) }),
    );
    const stalls = stallMonitor();
    const started = performance.now();
    for (let first = 0; first < n; first += BATCH) {
      await buses.publisher.publish(envelopes.slice(first, first + BATCH));
    }
    const publishedSeconds = (performance.now() - started) / 1000;
    await withTimeout(handled.all, timeout(n), `${kind}: ${handled.count}/${n} events handled`);
    const seconds = (performance.now() - started) / 1000;
    const loopStallMs = stalls.stop();
    await subscription.stop();
    return { seconds, perSecond: n / seconds, publishedSeconds, loopStallMs };
  } finally {
    await buses.close();
  }
}

/**
 * The whole path: a publisher writes N events (state row + outbox row per event, TX_SIZE per
 * transaction, waking the relay after each commit as ServiceHost does), the relay publishes
 * them, and the consumer records one effect row per event through the inbox. Timed from the
 * first write until the consumer has handled all N.
 */
async function endToEnd(kind: BusKind, databases: Databases, n: number): Promise<Sample> {
  const buses = await openBuses(kind);
  let publisher: Store<PublisherDB>;
  let consumer: Store<ConsumerDB>;
  try {
    publisher = await databases.open<PublisherDB>("publisher", publisherMigrations);
    consumer = await databases.open<ConsumerDB>("consumer", consumerMigrations);
  } catch (error) {
    await buses.close();
    throw error;
  }
  const outbox = new Outbox("bench-publisher", [ItemRecorded]);
  const relay = new OutboxRelay({
    db: asMessagingDb(publisher.db),
    bus: buses.publisher,
    logger: relayLogger,
    shared: publisher.kind === "postgres",
    batchSize: BATCH,
  });
  const inbox = new Inbox("bench-consumer");
  const handled = counter(n);
  let duplicates = 0;
  const handler: EventHandler = async (event) => {
    const data = ItemRecorded.parse(event.data);
    const outcome = await inbox.handle(consumer.db, event, (trx) =>
      trx
        .insertInto("bench_effects")
        .values({ event_id: event.id, item_id: data.itemId, n: data.n })
        .execute(),
    );
    if (outcome === "handled") handled.add();
    else duplicates += 1;
  };
  try {
    const subscription = await buses.consumer.subscribe("bench-consumer", [ItemRecorded.type], handler, {
      concurrency: CONCURRENCY,
    });
    relay.start();
    const stalls = stallMonitor();
    const started = performance.now();
    for (let first = 0; first < n; first += TX_SIZE) {
      await publisher.db.transaction().execute(async (trx) => {
        for (let i = first; i < Math.min(n, first + TX_SIZE); i++) {
          const data = item(i);
          await trx.insertInto("bench_items").values({ id: data.itemId, n: i, note: data.note }).execute();
          await outbox.add(trx, ItemRecorded, data.itemId, data);
        }
      });
      relay.wake();
    }
    const writtenSeconds = (performance.now() - started) / 1000;
    await withTimeout(handled.all, timeout(n), `${kind}: ${handled.count}/${n} events handled`);
    const seconds = (performance.now() - started) / 1000;
    const loopStallMs = stalls.stop();
    await relay.stop();
    await subscription.stop();
    const effects = await consumer.db
      .selectFrom("bench_effects")
      .select((eb) => eb.fn.countAll<string>().as("count"))
      .executeTakeFirstOrThrow();
    if (Number(effects.count) !== n) throw new Error(`expected ${n} effect rows, found ${effects.count}`);
    const relayFailures = relay.stats.failures;
    return { seconds, perSecond: n / seconds, writtenSeconds, duplicates, relayFailures, loopStallMs };
  } finally {
    await relay.stop();
    await buses.close();
    await publisher.close();
    await consumer.close();
  }
}

interface Measurement {
  id: string;
  label: string;
  bus: BusKind | "-";
  unit: "rows/s" | "events/s";
  needs: "store" | "bus" | "both";
  measure: () => Promise<Sample>;
  samples: Sample[];
  errors: string[];
  /** Why it was not run at all. */
  skipped?: string;
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const n = options.quick ? 500 : 5000;
  const runs = options.quick ? 1 : 3;
  const loadBefore = loadLine();
  const machineBefore = machine();

  let databases: Databases | undefined;
  let storeProblem: string | undefined;
  try {
    databases = await Databases.create(options.store);
  } catch (error) {
    const where = options.store === "postgres" ? ` at ${POSTGRES_URL}` : "";
    storeProblem = `${options.store} unavailable${where}: ${errorMessage(error)}`;
  }
  let natsProblem: string | undefined;
  try {
    const probe = await openBuses("nats");
    try {
      await probe.publisher.ping();
    } finally {
      await probe.close();
    }
  } catch (error) {
    natsProblem = `NATS unreachable at ${NATS_URL}: ${errorMessage(error)}`;
  }

  const db = () => {
    if (!databases) throw new Error(storeProblem);
    return databases;
  };
  const specs: Omit<Measurement, "samples" | "errors">[] = [
    {
      id: "store-write",
      label: "store write only: state rows, no outbox, no bus",
      bus: "-",
      unit: "rows/s",
      needs: "store",
      measure: () => storeWrites(db(), n, false),
    },
    {
      id: "outbox-write",
      label: "publisher writes only: state + outbox rows, no relay",
      bus: "-",
      unit: "events/s",
      needs: "store",
      measure: () => storeWrites(db(), n, true),
    },
    ...(["memory", "nats"] as const).flatMap((bus): Omit<Measurement, "samples" | "errors">[] => [
      {
        id: `raw-bus-${bus}`,
        label: `raw bus: publish (batches of ${BATCH}) -> no-op handler`,
        bus,
        unit: "events/s",
        needs: "bus",
        measure: () => rawBus(bus, n),
      },
      {
        id: `end-to-end-${bus}`,
        label: "end to end: write -> outbox -> relay -> bus -> inbox + effect",
        bus,
        unit: "events/s",
        needs: "both",
        measure: () => endToEnd(bus, db(), n),
      },
    ]),
  ];
  const measurements: Measurement[] = specs.map((spec) => ({ ...spec, samples: [], errors: [] }));
  for (const measurement of measurements) {
    const needsStore = measurement.needs !== "bus";
    const needsNats = measurement.needs !== "store" && measurement.bus === "nats";
    if (needsStore && storeProblem) measurement.skipped = storeProblem;
    else if (needsNats && natsProblem) measurement.skipped = natsProblem;
  }

  try {
    if (databases) {
      // Untimed warm-up: JIT, the PGlite WebAssembly module and the template copy are paid here.
      process.stderr.write("events: warm-up\n");
      await endToEnd("memory", databases, Math.min(n, 200));
    }
    // Round-robin, so a change in machine load during the run affects every row alike.
    for (let round = 1; round <= runs; round++) {
      for (const measurement of measurements) {
        if (measurement.skipped) continue;
        process.stderr.write(`events: round ${round}/${runs}: ${measurement.id}\n`);
        try {
          measurement.samples.push(await measurement.measure());
        } catch (error) {
          measurement.errors.push(errorMessage(error));
          process.stderr.write(`events: ${measurement.id} failed: ${errorMessage(error)}\n`);
        }
      }
    }
  } finally {
    await databases?.cleanup();
  }

  const rate = (id: string) =>
    median(measurements.find((m) => m.id === id)?.samples.map((s) => s.perSecond) ?? []);
  const rows: Cell[][] = measurements.map((m) => {
    if (m.skipped) return [m.label, m.bus, "not measured (see note)"];
    if (m.samples.length === 0) return [m.label, m.bus, "FAILED (see note)"];
    const perSecond = median(m.samples.map((s) => s.perSecond));
    const endToEnd = m.id.startsWith("end-to-end");
    return [
      m.label,
      m.bus,
      perSecond,
      m.unit,
      median(m.samples.map((s) => s.seconds * 1000)),
      endToEnd && m.bus !== "-" ? ratio(perSecond, rate(`raw-bus-${m.bus}`)) : undefined,
      endToEnd ? ratio(perSecond, rate("store-write")) : undefined,
      m.bus === "nats" ? ratio(perSecond, rate(m.id.replace("nats", "memory"))) : undefined,
      Math.max(...m.samples.map((s) => s.loopStallMs ?? 0)),
      m.samples.map((s) => Math.round(s.perSecond)).join(" "),
    ];
  });
  const failures = measurements.filter((m) => m.errors.length > 0);
  const skippedFor = new Map<string, string[]>();
  for (const m of measurements) {
    if (m.skipped) skippedFor.set(m.skipped, [...(skippedFor.get(m.skipped) ?? []), m.id]);
  }
  const notes = [
    ...[...skippedFor].map(([reason, ids]) => `not measured (${ids.join(", ")}): ${reason}`),
    ...failures.flatMap((m) => m.errors.map((error) => `${m.id} failed: ${error}`)),
    ...measurements
      .filter((m) => m.samples.some((s) => (s.relayFailures ?? 0) > 0 || (s.duplicates ?? 0) > 0))
      .map(
        (m) =>
          `${m.id}: failed relay publishes (retried) per run ${m.samples.map((s) => s.relayFailures).join(" ")}, ` +
          `duplicate deliveries absorbed by the inbox per run ${m.samples.map((s) => s.duplicates).join(" ")}`,
      ),
  ];
  const ratios = {
    endToEndVsRawBus: {
      memory: quotient(rate("end-to-end-memory"), rate("raw-bus-memory")),
      nats: quotient(rate("end-to-end-nats"), rate("raw-bus-nats")),
    },
    endToEndVsStoreWrite: {
      memory: quotient(rate("end-to-end-memory"), rate("store-write")),
      nats: quotient(rate("end-to-end-nats"), rate("store-write")),
    },
    natsVsMemory: {
      rawBus: quotient(rate("raw-bus-nats"), rate("raw-bus-memory")),
      endToEnd: quotient(rate("end-to-end-nats"), rate("end-to-end-memory")),
    },
  };

  const text = [
    `events: outbox -> bus -> inbox; N=${n} per measurement, transactions of ${TX_SIZE}, relay/publish batches of ${BATCH}, consumer concurrency ${CONCURRENCY}, store ${options.store}, median of ${runs}`,
    `  ${loadBefore} (before)`,
    "",
    table(
      "throughput (x raw bus = vs the same bus's raw publish->handle; x store = vs store write only; x memory = nats vs memory;\n" +
        "  loop stall = longest event-loop stall of any run, i.e. how long other work in the process would have waited)",
      [
        "measurement",
        "bus",
        "median",
        "unit",
        "ms",
        "x raw bus",
        "x store",
        "x memory",
        "loop stall ms",
        "samples",
      ],
      rows,
    ),
    ...notes.map((note) => `  note: ${note}`),
    `  ${loadLine()} (after)`,
    "",
  ].join("\n");

  return {
    name: "events",
    text,
    failed: failures.length > 0,
    json: {
      benchmark: "events",
      finishedAt: new Date().toISOString(),
      quick: options.quick,
      store: options.store,
      n,
      runs,
      txSize: TX_SIZE,
      batch: BATCH,
      concurrency: CONCURRENCY,
      natsUrl: NATS_URL,
      machineBefore,
      machineAfter: machine(),
      measurements: measurements.map((m) => ({
        id: m.id,
        label: m.label,
        bus: m.bus,
        unit: m.unit,
        medianPerSecond: median(m.samples.map((s) => s.perSecond)),
        samples: m.samples,
        errors: m.errors,
        ...(m.skipped ? { notMeasured: m.skipped } : {}),
      })),
      ratios,
    },
  };
}

function quotient(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}
