/**
 * Checkout throughput and place -> confirmed latency of the embedded default against cluster mode,
 * and what a second inventory replica does for catalog reads, all measured in the same run:
 *
 *   embedded  one `blossom start` process: every service and the gateway, PGlite, in-memory bus
 *   cluster   `blossom cluster --replicas <BENCH_CHECKOUT_REPLICAS>`: one OS process per service
 *             instance (2 of every service and of the gateway by default) on the local
 *             PostgreSQL (a database per service), NATS JetStream and Redis
 *
 * Each topology gets the same two phases, customers spread round-robin over the gateway replicas,
 * every order POST /api/orders with an Idempotency-Key, then GET /api/orders/:id until confirmed
 * or cancelled (the orders service has no push or long-poll endpoint, so polling it is):
 *
 *   saturation  N customers each placing orders one after another (closed loop), after one
 *               warm-up order each: confirmed orders/s, p50/p95/p99 place -> confirmed, CPU per order
 *   paced       orders due at half the saturation rate (open loop, at most
 *               BENCH_CHECKOUT_MAX_IN_FLIGHT at once), polled every 10 ms: p50/p95/p99 latency,
 *               counted from when each order was due (no coordinated omission)
 *
 * The issue's targets (>= 500 confirmed orders/s in cluster mode; p95 place -> confirmed under
 * 100 ms at half that rate) are checked and printed, with the cluster/embedded ratios.
 *
 * Catalog reads: GET /api/inventory/products/:id through the gateway (autocannon, this process),
 * against `blossom cluster --replicas 1,inventory=1` and then `--replicas 1,inventory=2`.
 *
 * CPU is user+system time from /proc: of every blossom process (the `blossom start` process, or
 * the cluster supervisor and every instance), of the servers the cluster uses (the PostgreSQL
 * backends of the run's databases, nats-server and redis-server, which whatever else uses them
 * also counts in), and of this process (the load generator, sharing the machine). Only one
 * platform runs at a time; each cluster gets its own databases, NATS prefix and instance bucket,
 * dropped afterwards. Without PostgreSQL, NATS or Redis the cluster parts are reported as skipped.
 *
 *   BENCH_CHECKOUT_DURATION         seconds of the saturation phase per topology (default 15; --quick 4)
 *   BENCH_CHECKOUT_ORDERS           a fixed number of orders in the saturation phase instead of a duration
 *   BENCH_CHECKOUT_CUSTOMERS        customers placing orders at once (default 16)
 *   BENCH_CHECKOUT_POLL_MS          poll a pending order at this interval in the saturation phase
 *                                   (default: no polling, GET with Prefer: wait=10)
 *   BENCH_CHECKOUT_PACED_DURATION   seconds of the paced phase (default: BENCH_CHECKOUT_DURATION)
 *   BENCH_CHECKOUT_PACED_RATE       orders/s of the paced phase (default: half the topology's saturation rate)
 *   BENCH_CHECKOUT_PACED_POLL_MS    the same in the paced phase
 *   BENCH_CHECKOUT_MAX_IN_FLIGHT    orders pending at once in the paced phase, at most (default 64)
 *   BENCH_CHECKOUT_REPLICAS         --replicas of the checkout cluster (default 2: every service and the gateway twice)
 *   BENCH_CHECKOUT_READ_DURATION    seconds of catalog reads per inventory replica count (default 5; --quick 2)
 *   BENCH_CHECKOUT_READ_CONNECTIONS concurrent connections of the catalog reads (default 20)
 *   BENCH_CHECKOUT_TELEMETRY        `off`: every platform runs without tracing; `without=pg`: without those
 *                                   instrumentations (OTEL_NODE_DISABLED_INSTRUMENTATIONS); default on, as `npm start` runs
 *   BENCH_CHECKOUT_CPU_PROF         a directory: the checkout cluster's supervisor and instances run with --cpu-prof and
 *                                   write their profiles there (file names carry the pid; stderr maps pids to services)
 *   BENCH_CHECKOUT_PARTS            what to run, comma-separated: embedded,cluster,reads (default all)
 *   BENCH_POSTGRES_URL, BENCH_NATS_URL, BENCH_REDIS_URL   the cluster's servers
 *                                   (default postgres://postgres@127.0.0.1:5432/postgres, nats://127.0.0.1:4222, redis://127.0.0.1:6379)
 */

import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { NatsBus } from "@blossom/bus/nats";
import { InstanceBucket } from "@blossom/client";
import { dropPostgresDatabase } from "@blossom/store";
import { freePort, spawnBlossom } from "@blossom/testkit";
import pg from "pg";
import { checkServers, requiredServers } from "../apps/blossom/src/commands/cluster-preflight.js";
import { SERVICE_NAMES } from "../apps/blossom/src/topology.js";
import {
  type ClusterRow,
  GENEROUS_USERS_LIMITS,
  readClusterTable,
} from "../tests/support/blossom-process.js";
import type { Product } from "../tests/support/shop-client.js";
import {
  type Customer,
  catalog,
  closedLoop,
  type LoadResult,
  openLoop,
  percentile,
  restock,
  signUpCustomers,
} from "./checkout-load.js";
import {
  cpuSeconds,
  measure,
  positiveInteger,
  type Sample,
  startBlossom,
  stopProcess,
  WARMUP_SECONDS,
} from "./gateway.js";
import {
  type BenchOptions,
  type BenchResult,
  type Cell,
  errorMessage,
  fmt,
  loadLine,
  machine,
  ratio,
  table,
  withTimeout,
} from "./report.js";

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_URL = process.env.BENCH_NATS_URL || "nats://127.0.0.1:4222";
const REDIS_URL = process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379";

/** The issue's targets. */
const TARGET_ORDERS_PER_SECOND = 500;
const TARGET_P95_MS = 100;

const CLUSTER_READY_TIMEOUT_MS = 300_000;
const CLUSTER_STOP_TIMEOUT_MS = 60_000;
/** Units added to every product before the checkouts, so that no run sells out. */
const RESTOCK_UNITS = 100_000;
/**
 * Far above what one user can send in a minute here: the limiter counts every request, refuses
 * none. The users service's sign-up and login budgets likewise (every customer is on 127.0.0.1).
 */
const RATE_LIMITS = {
  GATEWAY_RATE_LIMIT_PER_MINUTE: "1000000000",
  GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE: "100000",
  ...GENEROUS_USERS_LIMITS,
};
const MIN_PACED_ORDERS = 10;
/**
 * BENCH_CHECKOUT_TELEMETRY=off: every platform without tracing; `without=pg,undici`: tracing without
 * those instrumentations (what tracing costs a cluster, and which part of it).
 */
const TELEMETRY_SETTING = process.env.BENCH_CHECKOUT_TELEMETRY ?? "on";
const TELEMETRY_ENV: Record<string, string> =
  TELEMETRY_SETTING === "off"
    ? { OTEL_SDK_DISABLED: "true", BLOSSOM_TRACE_BUFFER_SPANS: "0" }
    : TELEMETRY_SETTING.startsWith("without=")
      ? { OTEL_NODE_DISABLED_INSTRUMENTATIONS: TELEMETRY_SETTING.slice("without=".length) }
      : {};
/** Catalog reads discarded before the measured ones, on top of measure()'s own warm-up (twice). */
const READ_EXTRA_WARMUP_SECONDS = 1;
const READ_WARMUP_SECONDS = 2 * WARMUP_SECONDS + READ_EXTRA_WARMUP_SECONDS;

type Part = "embedded" | "cluster" | "reads";
const PARTS: readonly Part[] = ["embedded", "cluster", "reads"];
type TopologyId = "embedded" | "cluster";

interface Config {
  durationSeconds: number;
  orders: number | undefined;
  customers: number;
  pollMs: number | undefined;
  pacedSeconds: number;
  pacedRate: number | undefined;
  pacedPollMs: number | undefined;
  maxInFlight: number;
  replicas: string;
  readSeconds: number;
  readConnections: number;
  parts: Part[];
}

/** How clients learn that an order settled, for the report. */
function waitingHow(pollMs: number | undefined): string {
  return pollMs === undefined
    ? "each client waits with GET /api/orders/:id and Prefer: wait=10 (held until the order settles)"
    : `each client polls GET /api/orders/:id every ${pollMs} ms`;
}

function positiveNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

function config(options: BenchOptions): Config {
  const durationSeconds = positiveInteger("BENCH_CHECKOUT_DURATION", options.quick ? 4 : 15);
  const parts = (process.env.BENCH_CHECKOUT_PARTS || PARTS.join(","))
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  const unknown = parts.filter((part) => !PARTS.includes(part as Part));
  if (unknown.length > 0)
    throw new Error(
      `BENCH_CHECKOUT_PARTS: unknown part(s) ${unknown.join(", ")} (one of ${PARTS.join(", ")})`,
    );
  return {
    durationSeconds,
    orders: process.env.BENCH_CHECKOUT_ORDERS ? positiveInteger("BENCH_CHECKOUT_ORDERS", 1) : undefined,
    customers: positiveInteger("BENCH_CHECKOUT_CUSTOMERS", 16),
    // Unset: clients wait with `Prefer: wait`; set: they poll at that interval, as without it.
    pollMs: positiveNumber("BENCH_CHECKOUT_POLL_MS"),
    pacedSeconds: positiveInteger("BENCH_CHECKOUT_PACED_DURATION", durationSeconds),
    pacedRate: positiveNumber("BENCH_CHECKOUT_PACED_RATE"),
    pacedPollMs: positiveNumber("BENCH_CHECKOUT_PACED_POLL_MS"),
    maxInFlight: positiveInteger("BENCH_CHECKOUT_MAX_IN_FLIGHT", 64),
    replicas: process.env.BENCH_CHECKOUT_REPLICAS || "2",
    readSeconds: positiveInteger("BENCH_CHECKOUT_READ_DURATION", options.quick ? 2 : 5),
    readConnections: positiveInteger("BENCH_CHECKOUT_READ_CONNECTIONS", 20),
    parts: parts as Part[],
  };
}

/* ----------------------------------------------------------------------------------------------
 * Platforms
 * -------------------------------------------------------------------------------------------- */

/** A running platform, as the load sees it. */
interface Platform {
  /** The process whose tree is the whole platform (the `blossom start` process, or the cluster supervisor). */
  pid: number;
  /** The cluster's instances (none for the embedded platform). */
  rows: ClusterRow[];
  /** Gateway base URLs (one per gateway replica). */
  gateways: string[];
  /** Blossom OS processes (the supervisor included). */
  processes: number;
  startSeconds: number;
  /** CPU seconds so far of every blossom process of the platform. */
  cpu(): number;
  /** CPU seconds so far of each service's instances together (cluster only: the embedded one is one process). */
  serviceCpu?(): Map<string, number>;
  /** CPU seconds so far of the servers it uses, per process (PostgreSQL backends, NATS, Redis), if any. */
  serverCpu?(): Promise<Map<number, number>>;
  /** Stops it and removes what it left behind; resolves with notes about what could not be cleaned. */
  stop(): Promise<string[]>;
}

async function startEmbedded(dir: string, adminPassword: string): Promise<Platform> {
  const began = performance.now();
  const port = await freePort();
  const ports = Object.fromEntries(SERVICE_NAMES.map((name) => [`${name.toUpperCase()}_PORT`, "0"]));
  const proc = await startBlossom(undefined, join(dir, "embedded"), {
    ...ports,
    ...RATE_LIMITS,
    ...TELEMETRY_ENV,
    GATEWAY_PORT: String(port),
    BLOSSOM_SEED: "true",
    BLOSSOM_ADMIN_PASSWORD: adminPassword,
  });
  const pid = proc.child.pid ?? 0;
  return {
    pid,
    rows: [],
    gateways: [`http://127.0.0.1:${port}`],
    processes: 1,
    startSeconds: (performance.now() - began) / 1000,
    cpu: () => cpuSeconds(pid),
    async stop() {
      await stopProcess(proc.child, proc.exited);
      return [];
    },
  };
}

/** The environment of `blossom cluster`: stray platform variables of this shell must not leak in. */
function clusterEnv(extra: Record<string, string>): Record<string, string> {
  const cleared: Record<string, string> = {};
  for (const name of Object.keys(process.env)) {
    if (
      [
        "NODE_ENV",
        "PORT",
        "DATABASE_URL",
        "NATS_URL",
        "REDIS_URL",
        "BLOSSOM_SEED",
        "BLOSSOM_CRASH_POINTS",
        "NODE_OPTIONS",
      ].includes(name) ||
      /^(GATEWAY|USERS|INVENTORY|ORDERS|PAYMENTS|NOTIFICATIONS|OTEL)_/.test(name)
    )
      cleared[name] = "";
  }
  return { ...cleared, LOG_LEVEL: "warn", LOG_FORMAT: "json", ...extra };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `pid` and its descendants. */
function processTree(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const id = queue.shift() ?? pid;
    found.push(id);
    try {
      queue.push(
        ...readFileSync(`/proc/${id}/task/${id}/children`, "utf8").split(" ").filter(Boolean).map(Number),
      );
    } catch {
      // Gone already.
    }
  }
  return found;
}

/** Pids of the processes whose command name is `name`. */
function processesNamed(name: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** PostgreSQL backends serving `databases`, NATS and Redis: pid -> CPU seconds so far. */
async function serverCpu(databases: readonly string[]): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  await client.connect();
  let backends: number[];
  try {
    const answer = await client.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = any($1::text[])",
      [databases],
    );
    backends = answer.rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
  const pids = [...backends, ...processesNamed("nats-server"), ...processesNamed("redis-server")];
  return new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
}

let clusters = 0;

/** `blossom cluster --replicas <replicas>` on fresh databases, NATS prefix and instance bucket. */
async function startCluster(
  replicas: string,
  dir: string,
  adminPassword: string,
  profileDir?: string,
): Promise<Platform> {
  const began = performance.now();
  clusters++;
  // Unique per run and cluster: databases, streams and the instance bucket are all named after it.
  const prefix = `bench_checkout_${process.pid}_${Date.now() % 1e8}_${clusters}`;
  const databases = SERVICE_NAMES.map((service) => `${prefix}_${service}`);
  const proc = spawnBlossom(
    ["cluster", "--replicas", replicas],
    clusterEnv({
      BLOSSOM_POSTGRES_URL: POSTGRES_URL,
      NATS_URL,
      REDIS_URL,
      BLOSSOM_NATS_PREFIX: prefix,
      BLOSSOM_DATA_DIR: join(dir, prefix),
      GATEWAY_PORT: "0",
      GATEWAY_METRICS_PORT: "0",
      BLOSSOM_SEED: "true",
      BLOSSOM_ADMIN_PASSWORD: adminPassword,
      ...RATE_LIMITS,
      ...TELEMETRY_ENV,
    }),
    // The instances inherit the supervisor's node arguments: each writes its own profile.
    profileDir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(profileDir)}`] : [],
  );
  const supervisor = proc.child.pid ?? 0;
  const pids = new Set<number>();
  const stop = async (): Promise<string[]> => {
    for (const pid of processTree(supervisor)) pids.add(pid);
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      // SIGINT: the supervisor stops its instances gracefully, in reverse dependency order.
      proc.child.kill("SIGINT");
      const timer = setTimeout(() => proc.child.kill("SIGKILL"), CLUSTER_STOP_TIMEOUT_MS);
      await proc.exited;
      clearTimeout(timer);
    }
    const notes: string[] = [];
    // The instances have process groups of their own: a killed supervisor leaves them running.
    const leftover = [...pids].filter((pid) => pid !== supervisor && alive(pid));
    for (const pid of leftover) process.kill(pid, "SIGKILL");
    if (leftover.length > 0)
      notes.push(`cluster ${prefix}: killed ${leftover.length} instance(s) left running`);
    const attempt = async (what: string, work: () => Promise<unknown>) => {
      await withTimeout(work(), 20_000, what).catch((error: unknown) => {
        notes.push(`cluster ${prefix}: could not ${what}: ${errorMessage(error)}`);
      });
    };
    await attempt("delete its instance bucket", async () => {
      const bucket = await InstanceBucket.open({ url: NATS_URL, prefix, name: "bench-checkout-cleanup" });
      try {
        await bucket.destroy();
      } finally {
        await bucket.close();
      }
    });
    await attempt("delete its streams", async () => {
      const bus = await NatsBus.connect({ url: NATS_URL, prefix, name: "bench-checkout-cleanup" });
      try {
        await bus.destroyStreams();
      } finally {
        await bus.close();
      }
    });
    for (const database of databases)
      await attempt(`drop database ${database}`, () => dropPostgresDatabase(POSTGRES_URL, database));
    await rm(join(dir, prefix), { recursive: true, force: true });
    return notes;
  };
  try {
    const deadline = Date.now() + CLUSTER_READY_TIMEOUT_MS;
    while (!proc.output().includes("Blossom cluster is ready")) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null)
        throw new Error(`blossom cluster exited before it was ready:\n${proc.output().slice(-3000)}`);
      if (Date.now() > deadline)
        throw new Error(
          `blossom cluster was not ready within ${CLUSTER_READY_TIMEOUT_MS / 1000} s:\n${proc.output().slice(-3000)}`,
        );
      await new Promise((done) => setTimeout(done, 100));
    }
    // The table is written in one piece, but give the pipe a moment to deliver all of it.
    await new Promise((done) => setTimeout(done, 200));
    const rows = readClusterTable(proc.output());
    for (const row of rows) pids.add(row.pid);
    if (profileDir)
      process.stderr.write(
        `checkout: CPU profiles go to ${profileDir}, named by pid: ${rows.map((row) => `${row.pid} ${row.service}`).join(", ")}\n`,
      );
    const gateways = rows.filter((row) => row.service === "gateway").map((row) => row.url);
    if (gateways.length === 0)
      throw new Error(`no gateway in the cluster's table:\n${proc.output().slice(-3000)}`);
    return {
      pid: supervisor,
      rows,
      gateways,
      processes: rows.length + 1,
      startSeconds: (performance.now() - began) / 1000,
      // The supervisor and its children (the instances, restarted ones included).
      cpu: () => cpuSeconds(supervisor),
      serviceCpu: () => {
        // The pids of the ready table: a restarted instance is not followed (none is expected here).
        const byService = new Map<string, number>();
        for (const row of rows)
          byService.set(row.service, (byService.get(row.service) ?? 0) + cpuSeconds(row.pid));
        return byService;
      },
      serverCpu: () => serverCpu(databases),
      stop,
    };
  } catch (error) {
    const notes = await stop();
    if (notes.length > 0) process.stderr.write(`checkout: ${notes.join("\n")}\n`);
    throw error;
  }
}

/* ----------------------------------------------------------------------------------------------
 * Checkout phases
 * -------------------------------------------------------------------------------------------- */

interface PhaseSummary {
  seconds: number;
  ordersPerSecond: number;
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  p99Ms: number | undefined;
  started: number;
  confirmed: number;
  cancelled: number;
  failed: number;
  skipped: number;
  /** CPU per confirmed order: blossom processes, the servers they use, this load generator. */
  cpuMsPerOrder: number | undefined;
  serverCpuMsPerOrder: number | undefined;
  clientCpuMsPerOrder: number | undefined;
  pollsPerOrder: number | undefined;
  firstFailure?: string;
}

interface PacedSummary extends PhaseSummary {
  offeredPerSecond: number;
  pollMs: number | undefined;
}

interface TopologyResult {
  id: TopologyId;
  label: string;
  processes?: number;
  gateways?: number;
  startSeconds?: number;
  saturation?: PhaseSummary;
  /** CPU ms per confirmed order of each service's instances during the saturation phase (cluster). */
  saturationCpuByService?: Record<string, number>;
  paced?: PacedSummary;
  skipped?: string;
  failures: string[];
}

function perOrder(seconds: number | undefined, confirmed: number): number | undefined {
  return seconds === undefined || confirmed === 0 ? undefined : (seconds * 1000) / confirmed;
}

/** `work` with the CPU its servers used meanwhile (summed over processes seen at the end). */
async function withServerCpu(
  platform: Platform,
  work: () => Promise<LoadResult>,
): Promise<{ result: LoadResult; serverSeconds: number | undefined }> {
  const before = await platform.serverCpu?.().catch(() => undefined);
  const result = await work();
  const after = await platform.serverCpu?.().catch(() => undefined);
  if (!before || !after) return { result, serverSeconds: undefined };
  let seconds = 0;
  for (const [pid, used] of after) seconds += used - (before.get(pid) ?? 0);
  return { result, serverSeconds: seconds };
}

/** CPU of the platform and its servers per second of the phase: how much of the machine it kept busy. */
function coresBusy(phase: PhaseSummary): number | undefined {
  if (phase.cpuMsPerOrder === undefined) return undefined;
  return ((phase.cpuMsPerOrder + (phase.serverCpuMsPerOrder ?? 0)) * phase.ordersPerSecond) / 1000;
}

function summarize(result: LoadResult, serverSeconds: number | undefined): PhaseSummary {
  const { confirmed } = result;
  return {
    seconds: result.seconds,
    ordersPerSecond: confirmed / result.seconds,
    p50Ms: percentile(result.latenciesMs, 0.5),
    p95Ms: percentile(result.latenciesMs, 0.95),
    p99Ms: percentile(result.latenciesMs, 0.99),
    started: result.started,
    confirmed,
    cancelled: result.cancelled,
    failed: result.failed,
    skipped: result.skipped,
    cpuMsPerOrder: perOrder(result.cpuSeconds, confirmed),
    serverCpuMsPerOrder: perOrder(serverSeconds, confirmed),
    clientCpuMsPerOrder: perOrder(result.clientCpuSeconds, confirmed),
    pollsPerOrder:
      result.started - result.failed > 0 ? result.polls / (result.started - result.failed) : undefined,
    ...(result.firstFailure ? { firstFailure: result.firstFailure } : {}),
  };
}

const TOPOLOGY_LABELS: Record<TopologyId, string> = {
  embedded: "embedded (blossom start)",
  cluster: "cluster (blossom cluster)",
};

/** Sign-up, restock, warm-up, then the saturation and the paced phase on one platform. */
async function checkoutPhases(
  id: TopologyId,
  platform: Platform,
  settings: Config,
  adminPassword: string,
  result: TopologyResult,
): Promise<void> {
  const log = (message: string) => process.stderr.write(`checkout: ${id}: ${message}\n`);
  const gateway = platform.gateways[0] ?? "";
  log(`signing up ${settings.customers} customers over ${platform.gateways.length} gateway(s)`);
  const customers: Customer[] = await signUpCustomers(platform.gateways, settings.customers);
  const products: Product[] = await catalog(gateway);
  if (products.length === 0) throw new Error("the catalog is empty (demo seed missing?)");
  await restock(gateway, adminPassword, products, RESTOCK_UNITS);
  const cpu = () => platform.cpu();

  log("warm-up: one order per customer");
  const warmup = await closedLoop({ customers, products, orders: customers.length, pollMs: settings.pollMs });
  if (warmup.failed > 0 || warmup.cancelled > 0)
    result.failures.push(
      `warm-up: ${warmup.failed} failed, ${warmup.cancelled} cancelled (${warmup.firstFailure ?? "?"})`,
    );

  log(
    settings.orders === undefined
      ? `saturation: ${settings.durationSeconds} s`
      : `saturation: ${settings.orders} orders`,
  );
  const serviceCpuBefore = platform.serviceCpu?.();
  const saturation = await withServerCpu(platform, () =>
    closedLoop({
      customers,
      products,
      productOffset: customers.length,
      pollMs: settings.pollMs,
      cpu,
      ...(settings.orders === undefined
        ? { durationMs: settings.durationSeconds * 1000 }
        : { orders: settings.orders }),
    }),
  );
  result.saturation = summarize(saturation.result, saturation.serverSeconds);
  const serviceCpuAfter = platform.serviceCpu?.();
  if (serviceCpuBefore && serviceCpuAfter && saturation.result.confirmed > 0)
    result.saturationCpuByService = Object.fromEntries(
      [...serviceCpuAfter].map(([service, seconds]) => [
        service,
        ((seconds - (serviceCpuBefore.get(service) ?? 0)) * 1000) / saturation.result.confirmed,
      ]),
    );

  const rate = settings.pacedRate ?? result.saturation.ordersPerSecond / 2;
  if (!(rate > 0)) {
    result.failures.push("paced phase not run: no order was confirmed at saturation");
    return;
  }
  const orders = Math.max(MIN_PACED_ORDERS, Math.round(rate * settings.pacedSeconds));
  log(`paced: ${orders} orders at ${fmt(rate)}/s`);
  const paced = await withServerCpu(platform, () =>
    openLoop({
      customers,
      products,
      productOffset: customers.length + saturation.result.started,
      ratePerSecond: rate,
      orders,
      maxInFlight: settings.maxInFlight,
      pollMs: settings.pacedPollMs,
      cpu,
    }),
  );
  result.paced = {
    ...summarize(paced.result, paced.serverSeconds),
    offeredPerSecond: rate,
    pollMs: settings.pacedPollMs,
  };
}

async function runTopology(
  id: TopologyId,
  start: () => Promise<Platform>,
  settings: Config,
  adminPassword: string,
  notes: string[],
): Promise<TopologyResult> {
  const result: TopologyResult = { id, label: TOPOLOGY_LABELS[id], failures: [] };
  process.stderr.write(`checkout: ${id}: starting\n`);
  let platform: Platform | undefined;
  try {
    platform = await start();
    result.processes = platform.processes;
    result.gateways = platform.gateways.length;
    result.startSeconds = platform.startSeconds;
    await checkoutPhases(id, platform, settings, adminPassword, result);
  } catch (error) {
    result.failures.push(errorMessage(error));
    process.stderr.write(`checkout: ${id}: ${error instanceof Error ? error.stack : String(error)}\n`);
  } finally {
    if (platform) notes.push(...(await platform.stop()));
  }
  return result;
}

/* ----------------------------------------------------------------------------------------------
 * Catalog reads
 * -------------------------------------------------------------------------------------------- */

interface ReadResult {
  inventoryReplicas: number;
  replicasArgument: string;
  processes?: number;
  sku?: string;
  sample?: Sample;
  /** CPU seconds each inventory instance used during the reads (warm-up included). */
  inventoryCpuSeconds?: number[];
  failures: string[];
}

async function catalogReads(
  inventoryReplicas: number,
  settings: Config,
  dir: string,
  adminPassword: string,
  notes: string[],
  sku: string | undefined,
): Promise<ReadResult> {
  const replicasArgument = `1,inventory=${inventoryReplicas}`;
  const result: ReadResult = { inventoryReplicas, replicasArgument, failures: [] };
  process.stderr.write(`checkout: reads: starting blossom cluster --replicas ${replicasArgument}\n`);
  let platform: Platform | undefined;
  try {
    platform = await startCluster(replicasArgument, dir, adminPassword);
    result.processes = platform.processes;
    const gateway = platform.gateways[0] ?? "";
    const [customer] = await signUpCustomers([gateway], 1, "reader");
    const products = await catalog(gateway);
    // Each cluster has its own databases, hence its own ids: read the same SKU on both.
    const product = products.find((candidate) => candidate.sku === sku) ?? products[0];
    if (!product) throw new Error("the catalog is empty (demo seed missing?)");
    result.sku = product.sku;
    const inventory = platform.rows.filter((row) => row.service === "inventory").map((row) => row.pid);
    const target = { url: gateway, pid: platform.pid };
    const path = `/api/inventory/products/${product.id}`;
    const token = customer?.client.tokens.accessToken ?? "";
    process.stderr.write(`checkout: reads: inventory x${inventoryReplicas}: ${settings.readSeconds} s\n`);
    // The instances have just started: a longer warm-up than measure()'s own, discarded.
    await measure(target, path, token, {
      connections: settings.readConnections,
      durationSeconds: READ_EXTRA_WARMUP_SECONDS,
    });
    const before = inventory.map((pid) => cpuSeconds(pid));
    result.sample = await measure(target, path, token, {
      connections: settings.readConnections,
      durationSeconds: settings.readSeconds,
    });
    result.inventoryCpuSeconds = inventory.map((pid, index) => cpuSeconds(pid) - (before[index] ?? 0));
  } catch (error) {
    result.failures.push(errorMessage(error));
    process.stderr.write(`checkout: reads: ${error instanceof Error ? error.stack : String(error)}\n`);
  } finally {
    if (platform) notes.push(...(await platform.stop()));
  }
  return result;
}

/* ----------------------------------------------------------------------------------------------
 * Report
 * -------------------------------------------------------------------------------------------- */

const count = (value: number | undefined) => (value === undefined ? undefined : String(value));

function holds(value: boolean | undefined): string {
  return value === undefined ? "NOT MEASURED" : value ? "HOLDS" : "DOES NOT HOLD";
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const settings = config(options);
  const loadBefore = loadLine();
  const machineBefore = machine();
  const dir = await mkdtemp(join(tmpdir(), "blossom-bench-checkout-"));
  const adminPassword = `bench-admin-${randomUUID()}`;
  const notes: string[] = [];
  const topologies: TopologyResult[] = [];
  const reads: ReadResult[] = [];
  let clusterSkipped: string | undefined;
  try {
    if (settings.parts.includes("embedded")) {
      topologies.push(
        await runTopology(
          "embedded",
          () => startEmbedded(dir, adminPassword),
          settings,
          adminPassword,
          notes,
        ),
      );
    }
    if (settings.parts.includes("cluster") || settings.parts.includes("reads")) {
      const variables: Record<string, string> = {
        BLOSSOM_POSTGRES_URL: "BENCH_POSTGRES_URL",
        NATS_URL: "BENCH_NATS_URL",
        REDIS_URL: "BENCH_REDIS_URL",
      };
      const unreachable = await checkServers(
        requiredServers({ postgresUrl: POSTGRES_URL, natsUrl: NATS_URL, redisUrl: REDIS_URL }).map(
          (server) => ({ ...server, variable: variables[server.variable] ?? server.variable }),
        ),
      );
      if (unreachable.length > 0)
        clusterSkipped = unreachable.map((message) => message.split("\n")[0]).join("; ");
    }
    if (settings.parts.includes("cluster")) {
      if (clusterSkipped) {
        topologies.push({
          id: "cluster",
          label: TOPOLOGY_LABELS.cluster,
          skipped: clusterSkipped,
          failures: [],
        });
      } else {
        topologies.push(
          await runTopology(
            "cluster",
            () => startCluster(settings.replicas, dir, adminPassword, process.env.BENCH_CHECKOUT_CPU_PROF),
            settings,
            adminPassword,
            notes,
          ),
        );
      }
    }
    if (settings.parts.includes("reads") && !clusterSkipped) {
      for (const replicas of [1, 2]) {
        reads.push(await catalogReads(replicas, settings, dir, adminPassword, notes, reads[0]?.sku));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const embedded = topologies.find((topology) => topology.id === "embedded");
  const cluster = topologies.find((topology) => topology.id === "cluster");
  const saturationRows: Cell[][] = topologies.map((topology) => {
    const phase = topology.saturation;
    if (!phase) return [topology.label, topology.skipped ? "SKIPPED (see note)" : "FAILED (see note)"];
    return [
      topology.label,
      count(topology.processes),
      phase.ordersPerSecond,
      phase.p50Ms,
      phase.p95Ms,
      phase.p99Ms,
      count(phase.confirmed),
      count(phase.cancelled),
      count(phase.failed),
      phase.cpuMsPerOrder,
      phase.serverCpuMsPerOrder,
      phase.clientCpuMsPerOrder,
      phase.pollsPerOrder,
      coresBusy(phase),
    ];
  });
  const pacedRows: Cell[][] = topologies.map((topology) => {
    const phase = topology.paced;
    if (!phase)
      return [topology.label, topology.skipped ? "SKIPPED (see note)" : "NOT RUN / FAILED (see note)"];
    return [
      topology.label,
      phase.offeredPerSecond,
      phase.ordersPerSecond,
      phase.p50Ms,
      phase.p95Ms,
      phase.p99Ms,
      count(phase.confirmed),
      count(phase.cancelled),
      count(phase.failed),
      count(phase.skipped),
      phase.cpuMsPerOrder,
      phase.serverCpuMsPerOrder,
      phase.pollsPerOrder,
      coresBusy(phase),
    ];
  });
  const read = (replicas: number) => reads.find((entry) => entry.inventoryReplicas === replicas)?.sample;
  const readRows: Cell[][] = reads.map((entry) =>
    entry.sample
      ? [
          `--replicas ${entry.replicasArgument}`,
          count(entry.processes),
          entry.sample.requestsPerSecond,
          entry.sample.p50Ms,
          entry.sample.p99Ms,
          entry.sample.cpuUsPerRequest,
          entry.sample.cpuUsPerRequest === undefined
            ? undefined
            : (entry.sample.cpuUsPerRequest * entry.sample.requestsPerSecond) / 1e6,
          String(entry.sample.non2xx + entry.sample.errors + entry.sample.timeouts),
          entry.inventoryCpuSeconds?.map((seconds) => seconds.toFixed(2)).join(" / "),
        ]
      : [`--replicas ${entry.replicasArgument}`, "FAILED (see note)"],
  );

  const clusterRate = cluster?.saturation?.ordersPerSecond;
  const clusterPacedP95 = cluster?.paced?.p95Ms;
  const throughputTarget = clusterRate === undefined ? undefined : clusterRate >= TARGET_ORDERS_PER_SECOND;
  const latencyTarget = clusterPacedP95 === undefined ? undefined : clusterPacedP95 < TARGET_P95_MS;
  const e = embedded?.saturation;
  const c = cluster?.saturation;
  const ep = embedded?.paced;
  const cp = cluster?.paced;
  const totalCpu = (phase: PhaseSummary | undefined) =>
    phase?.cpuMsPerOrder === undefined ? undefined : phase.cpuMsPerOrder + (phase.serverCpuMsPerOrder ?? 0);

  for (const topology of topologies) {
    if (topology.skipped) notes.push(`${topology.label} SKIPPED: ${topology.skipped}`);
    for (const failure of topology.failures) notes.push(`${topology.label}: ${failure.slice(0, 300)}`);
    for (const [name, phase] of [
      ["saturation", topology.saturation],
      ["paced", topology.paced],
    ] as const) {
      if (phase?.firstFailure) notes.push(`${topology.label}, ${name}: ${phase.firstFailure.slice(0, 200)}`);
    }
  }
  if (cluster?.saturation)
    notes.push(
      "servers ms/order counts every PostgreSQL backend of the cluster's databases, but all of nats-server and redis-server: other users of those servers count too",
    );
  if (settings.parts.includes("reads") && clusterSkipped)
    notes.push(`catalog reads SKIPPED: ${clusterSkipped}`);
  for (const entry of reads)
    for (const failure of entry.failures)
      notes.push(`catalog reads, --replicas ${entry.replicasArgument}: ${failure.slice(0, 300)}`);

  const saturationWhat =
    settings.orders === undefined
      ? `for ${settings.durationSeconds} s`
      : `until ${settings.orders} orders were placed`;
  const text = [
    `checkout: embedded (one \`blossom start\` process: PGlite, memory bus) vs cluster (\`blossom cluster --replicas ${settings.replicas}\`: one process per instance on PostgreSQL, NATS JetStream, Redis); customers spread over the gateway replicas; every order POST /api/orders (Idempotency-Key), then GET /api/orders/:id until settled; latency = place -> seen confirmed`,
    ...(TELEMETRY_SETTING === "on" ? [] : [`  telemetry: BENCH_CHECKOUT_TELEMETRY=${TELEMETRY_SETTING}`]),
    `  ${loadBefore} (before)`,
    "",
    ...(topologies.length === 0
      ? []
      : [
          startupLine(topologies),
          table(
            `saturation: ${settings.customers} customers each placing orders one after another ${saturationWhat}, after one warm-up order each; ${waitingHow(settings.pollMs)}; CPU ms/order = user+system CPU per confirmed order of every blossom process / of the servers (PostgreSQL backends of the run's databases, nats-server, redis-server) / of this load generator; polls/order = GET /api/orders/:id per placed order; cores busy = CPU of blossom processes and servers per second of the phase (the machine has ${cpus().length})`,
            [
              "topology",
              "processes",
              "confirmed/s",
              "p50 ms",
              "p95 ms",
              "p99 ms",
              "confirmed",
              "cancelled",
              "failed",
              "CPU ms/order",
              "servers ms/order",
              "client ms/order",
              "polls/order",
              "cores busy",
            ],
            saturationRows,
          ),
          table(
            `paced: open loop, orders due at ${settings.pacedRate === undefined ? "half the topology's saturation rate" : `${settings.pacedRate}/s`} for ${settings.pacedSeconds} s, at most ${settings.maxInFlight} in flight (skipped = due while that many were pending), ${waitingHow(settings.pacedPollMs)}; latency counted from when each order was due`,
            [
              "topology",
              "offered/s",
              "confirmed/s",
              "p50 ms",
              "p95 ms",
              "p99 ms",
              "confirmed",
              "cancelled",
              "failed",
              "skipped",
              "CPU ms/order",
              "servers ms/order",
              "polls/order",
              "cores busy",
            ],
            pacedRows,
          ),
          `  cluster/embedded: saturation confirmed/s ${ratio(c?.ordersPerSecond, e?.ordersPerSecond) ?? "-"}, p50 ${ratio(c?.p50Ms, e?.p50Ms) ?? "-"}, p95 ${ratio(c?.p95Ms, e?.p95Ms) ?? "-"}, p99 ${ratio(c?.p99Ms, e?.p99Ms) ?? "-"}; paced p50 ${ratio(cp?.p50Ms, ep?.p50Ms) ?? "-"}, p95 ${ratio(cp?.p95Ms, ep?.p95Ms) ?? "-"}, p99 ${ratio(cp?.p99Ms, ep?.p99Ms) ?? "-"}; CPU/order ${ratio(c?.cpuMsPerOrder, e?.cpuMsPerOrder) ?? "-"} (blossom processes), ${ratio(totalCpu(c), totalCpu(e)) ?? "-"} (with the servers)`,
          ...(cluster?.saturationCpuByService
            ? [
                `  cluster CPU ms per confirmed order by service (saturation, all replicas): ${Object.entries(
                  cluster.saturationCpuByService,
                )
                  .sort((a, b) => b[1] - a[1])
                  .map(([service, ms]) => `${service} ${fmt(ms)}`)
                  .join(", ")}`,
              ]
            : []),
          `  target >= ${TARGET_ORDERS_PER_SECOND} confirmed orders/s in cluster mode: ${holds(throughputTarget)}${clusterRate === undefined ? "" : ` (${fmt(clusterRate)}/s, ${((clusterRate / TARGET_ORDERS_PER_SECOND) * 100).toFixed(1)}% of the target)`}`,
          `  target p95 place -> confirmed < ${TARGET_P95_MS} ms at half the saturation rate in cluster mode: ${holds(latencyTarget)}${clusterPacedP95 === undefined || !cp ? "" : ` (p95 ${fmt(clusterPacedP95)} ms at ${fmt(cp.offeredPerSecond)}/s offered${throughputTarget ? "" : `: half the measured rate, not ${TARGET_ORDERS_PER_SECOND / 2}/s, which this cluster cannot sustain`})`}`,
          "",
        ]),
    ...(reads.length > 0
      ? [
          table(
            `catalog read: GET /api/inventory/products/:id (${reads[0]?.sku ?? "-"}) through the one gateway, ${settings.readConnections} connections, ${settings.readSeconds} s after ${READ_WARMUP_SECONDS} s warm-up; CPU µs/req = user+system CPU of every blossom process per request; cores busy = that CPU per second of the run; inventory CPU s = CPU of each inventory instance (last 1 s of warm-up included)`,
            [
              "cluster",
              "processes",
              "req/s",
              "p50 ms",
              "p99 ms",
              "CPU µs/req",
              "cores busy",
              "non-2xx+errors",
              "inventory CPU s",
            ],
            readRows,
          ),
          `  inventory x2 / x1: req/s ${ratio(read(2)?.requestsPerSecond, read(1)?.requestsPerSecond) ?? "-"}, p50 ${ratio(read(2)?.p50Ms, read(1)?.p50Ms) ?? "-"}, p99 ${ratio(read(2)?.p99Ms, read(1)?.p99Ms) ?? "-"}`,
          "",
        ]
      : []),
    ...notes.map((note) => `  note: ${note}`),
    `  ${loadLine()} (after)`,
    "",
  ].join("\n");

  return {
    name: "checkout",
    text,
    failed:
      topologies.some((topology) => topology.failures.length > 0) ||
      reads.some((entry) => entry.failures.length > 0),
    json: {
      benchmark: "checkout",
      finishedAt: new Date().toISOString(),
      quick: options.quick,
      ...settings,
      servers: { postgres: POSTGRES_URL, nats: NATS_URL, redis: REDIS_URL },
      machineBefore,
      machineAfter: machine(),
      targets: {
        clusterOrdersPerSecond: TARGET_ORDERS_PER_SECOND,
        clusterPacedP95Ms: TARGET_P95_MS,
        throughputHolds: throughputTarget ?? "not measured",
        latencyHolds: latencyTarget ?? "not measured",
      },
      topologies,
      clusterToEmbedded: {
        ordersPerSecond: ratioNumber(c?.ordersPerSecond, e?.ordersPerSecond),
        saturationP95: ratioNumber(c?.p95Ms, e?.p95Ms),
        pacedP95: ratioNumber(cp?.p95Ms, ep?.p95Ms),
        cpuPerOrder: ratioNumber(c?.cpuMsPerOrder, e?.cpuMsPerOrder),
        cpuPerOrderWithServers: ratioNumber(totalCpu(c), totalCpu(e)),
      },
      catalogReads: {
        warmupSeconds: READ_WARMUP_SECONDS,
        runs: reads,
        twoToOne: ratioNumber(read(2)?.requestsPerSecond, read(1)?.requestsPerSecond),
        ...(settings.parts.includes("reads") && clusterSkipped ? { skipped: clusterSkipped } : {}),
      },
      notes,
    },
  };
}

function startupLine(topologies: readonly TopologyResult[]): string {
  const started = topologies.filter((topology) => topology.startSeconds !== undefined);
  const parts = started.map(
    (topology) =>
      `${topology.label} ${fmt(topology.startSeconds ?? 0)} s (${topology.processes} process${topology.processes === 1 ? "" : "es"}, ${topology.gateways} gateway${topology.gateways === 1 ? "" : "s"})`,
  );
  return `  ready in: ${parts.length > 0 ? parts.join("; ") : "-"}\n`;
}

function ratioNumber(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}
