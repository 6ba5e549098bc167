/**
 * What an open operations console costs (issue 17, point 5): on ONE embedded platform
 * (`blossom start`: one process, PGlite, memory bus), checkout throughput with the console
 * closed and with it open, in alternating phases of the same length (round 1: closed, open;
 * round 2: open, closed; …, so that a drift of the machine's speed hits both alike). Every phase
 * is the checkout bench's closed loop: 16 customers placing orders through the gateway, each
 * order awaited with GET and `Prefer: wait` (bench/checkout-load.ts). Objective: open >= 0.95x
 * closed confirmed orders/s (printed as met or missed, not judged: figures from a busy machine
 * are noise). Then the console's in-memory buffers, filled to capacity (bench/console-buffers.ts).
 *
 * "Console open" is an admin's browser tabs, replayed from this process through the gateway with
 * the admin's token: the HTTP calls the console pages make, at their cadence, with their rule
 * that a tick is skipped while the previous refresh is still waiting. Read in apps/web/src/console/:
 *
 *   overview  OverviewPage.tsx (REFRESH_MS = 5,000): on open and every 5 s,
 *             GET /api/ops/metrics?since=<newest point seen> (none on open: the whole 15 minutes)
 *             and GET /health/ready (Accept: application/json, no token: the page uses fetch)
 *   logs      LogsPage.tsx with "Live tail" on (TAIL_MS = 2,000): on open GET /api/ops/logs?limit=300,
 *             then every 2 s GET /api/ops/logs?after=<the answer's cursor>&limit=500
 *   map       MapPage.tsx (REFRESH_MS = 5,000): every 5 s GET /api/ops/metrics?since=<now - 60 s>
 *             and GET /health/ready
 *   sagas     SagasPage.tsx (REFRESH_MS = 5,000): every 5 s GET /api/orders/sagas?limit=25
 *
 * The default models one tab on the overview and one on the logs with live tail
 * (BENCH_CONSOLE_TABS=overview,logs). The other pages poll nothing: traces, a trace's
 * waterfall, messages (metrics and dead letters), the mailbox load once, on open or on a click.
 * The tabs open at the start of each console-open phase (their first, larger reads included)
 * and close at its end.
 *
 *   BENCH_CONSOLE_DURATION   seconds of each phase (default 10; --quick 3)
 *   BENCH_CONSOLE_ROUNDS     rounds, each one closed and one open phase (default 2)
 *   BENCH_CONSOLE_CUSTOMERS  customers placing orders at once (default 16)
 *   BENCH_CONSOLE_TABS       the console's tabs: overview, logs, map, sagas (default overview,logs)
 *   BENCH_CONSOLE_LOG_LEVEL  LOG_LEVEL of the platform (default warn, as every bench's platform;
 *                            info: what `npm start` logs, an access line per request in the log rings)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { StoredSpan } from "@blossom/telemetry";
import { ShopClient } from "../tests/support/shop-client.js";
import { type Customer, catalog, closedLoop, percentile, restock, signUpCustomers } from "./checkout-load.js";
import { type BufferFill, buffersTable, fillBuffers, type PlatformSamples } from "./console-buffers.js";
import { cpuSeconds, startEmbeddedPlatform, stopProcess, UNLIMITED_RATES } from "./processes.js";
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
} from "./report.js";
import { benchVariable, positiveInteger } from "./settings.js";

/** The issue's objective: with the console open, at least this share of the closed throughput. */
const OBJECTIVE_SHARE = 0.95;
const ADMIN_PASSWORD = "bench-console-admin";
const RESTOCK_UNITS = 100_000;
/** Between phases: what the previous one left to do (outbox relays, notifications) settles first. */
const DRAIN_MS = 1_000;
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];

const TAB_NAMES = ["overview", "logs", "map", "sagas"] as const;
type TabName = (typeof TAB_NAMES)[number];

interface Config {
  durationSeconds: number;
  rounds: number;
  customers: number;
  tabs: TabName[];
  logLevel: string;
}

/** Every BENCH_* variable of this benchmark, read once. */
function config(options: BenchOptions): Config {
  const tabs = (benchVariable("BENCH_CONSOLE_TABS") ?? "overview,logs")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = tabs.filter((name) => !(TAB_NAMES as readonly string[]).includes(name));
  if (tabs.length === 0 || unknown.length > 0)
    throw new Error(
      `BENCH_CONSOLE_TABS must list some of ${TAB_NAMES.join(", ")}, got "${benchVariable("BENCH_CONSOLE_TABS")}"`,
    );
  const logLevel = benchVariable("BENCH_CONSOLE_LOG_LEVEL") ?? "warn";
  if (!LOG_LEVELS.includes(logLevel))
    throw new Error(`BENCH_CONSOLE_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  return {
    durationSeconds: positiveInteger("BENCH_CONSOLE_DURATION", options.quick ? 3 : 10),
    rounds: positiveInteger("BENCH_CONSOLE_ROUNDS", 2),
    customers: positiveInteger("BENCH_CONSOLE_CUSTOMERS", 16),
    tabs: [...new Set(tabs)] as TabName[],
    logLevel,
  };
}

const log = (message: string) => process.stderr.write(`console: ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** As the console's `query()` (parts.tsx): unset and empty values left out. */
function query(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values))
    if (value !== undefined && value !== "") params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** What the console's requests did in one phase. */
interface ConsoleTally {
  requests: number;
  /** Answers other than 2xx, except /health/ready's 503 (the page reads its body either way). */
  failures: number;
  firstFailure?: string;
  bytes: number;
  latenciesMs: number[];
  /** Log lines the live tail received. */
  logLines: number;
  /** Answers whose `unavailable` named instances that did not answer the gateway in time. */
  partial: number;
}

/** The admin's browser: its requests through the gateway, counted. */
class ConsoleClient {
  readonly tally: ConsoleTally = {
    requests: 0,
    failures: 0,
    bytes: 0,
    latenciesMs: [],
    logLines: 0,
    partial: 0,
  };

  constructor(
    private readonly gateway: string,
    private readonly token: string,
  ) {}

  /** GET `path` as the page does (with the token unless `anonymous`); the parsed body, or undefined. */
  async get<T>(path: string, anonymous = false): Promise<T | undefined> {
    const started = performance.now();
    this.tally.requests++;
    try {
      const answer = await fetch(`${this.gateway}${path}`, {
        headers: {
          accept: "application/json",
          ...(anonymous ? {} : { authorization: `Bearer ${this.token}` }),
        },
      });
      const text = await answer.text();
      this.tally.bytes += text.length;
      this.tally.latenciesMs.push(performance.now() - started);
      const readable = answer.ok || (path === "/health/ready" && answer.status === 503);
      if (!readable) {
        this.tally.failures++;
        this.tally.firstFailure ??= `GET ${path.split("?")[0]}: ${answer.status} ${text.slice(0, 160)}`;
        return undefined;
      }
      const body = JSON.parse(text) as T;
      if ((body as { unavailable?: unknown[] }).unavailable?.length) this.tally.partial++;
      return body;
    } catch (error) {
      this.tally.failures++;
      this.tally.firstFailure ??= `GET ${path.split("?")[0]}: ${errorMessage(error)}`;
      return undefined;
    }
  }
}

interface MetricsAnswer {
  series: Array<{ points: Array<{ time: string }> }>;
}

/** One page's polling: its first load, then a tick every `intervalMs`. */
interface Tab {
  intervalMs: number;
  open(): Promise<void>;
  tick(): Promise<void>;
}

function makeTab(name: TabName, client: ConsoleClient): Tab {
  switch (name) {
    case "overview": {
      let newest: string | undefined;
      const refresh = async () => {
        const [metrics] = await Promise.all([
          client.get<MetricsAnswer>(`/api/ops/metrics${query({ since: newest })}`),
          client.get("/health/ready", true),
        ]);
        for (const one of metrics?.series ?? [])
          for (const point of one.points)
            if (newest === undefined || point.time > newest) newest = point.time;
      };
      return { intervalMs: 5_000, open: refresh, tick: refresh };
    }
    case "map": {
      const refresh = async () => {
        const since = new Date(Date.now() - 60_000).toISOString();
        await Promise.all([
          client.get(`/api/ops/metrics${query({ since })}`),
          client.get("/health/ready", true),
        ]);
      };
      return { intervalMs: 5_000, open: refresh, tick: refresh };
    }
    case "logs": {
      let cursor: string | undefined;
      return {
        intervalMs: 2_000,
        open: async () => {
          const page = await client.get<{ items: unknown[]; cursor: string }>("/api/ops/logs?limit=300");
          cursor = page?.cursor;
        },
        tick: async () => {
          if (cursor === undefined) return;
          const page = await client.get<{ items: unknown[]; cursor: string }>(
            `/api/ops/logs${query({ after: cursor, limit: 500 })}`,
          );
          if (!page) return;
          cursor = page.cursor;
          client.tally.logLines += page.items.length;
        },
      };
    }
    case "sagas": {
      const refresh = async () => {
        await client.get(`/api/orders/sagas${query({ limit: 25 })}`);
      };
      return { intervalMs: 5_000, open: refresh, tick: refresh };
    }
  }
}

/** The tabs open: each loads at once, then ticks on its interval, skipping a tick while busy. */
function openConsole(tabs: readonly TabName[], client: ConsoleClient): { close(): Promise<void> } {
  const timers: NodeJS.Timeout[] = [];
  const inFlight = new Set<Promise<void>>();
  for (const name of tabs) {
    const tab = makeTab(name, client);
    let busy = false;
    const run = (step: () => Promise<void>) => {
      if (busy) return;
      busy = true;
      const work = step().finally(() => {
        busy = false;
        inFlight.delete(work);
      });
      inFlight.add(work);
    };
    run(tab.open);
    timers.push(setInterval(() => run(tab.tick), tab.intervalMs));
  }
  return {
    async close() {
      for (const timer of timers) clearInterval(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}

type Setting = "closed" | "open";

interface PhaseSample {
  round: number;
  console: Setting;
  seconds: number;
  ordersPerSecond: number;
  confirmed: number;
  cancelled: number;
  failed: number;
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  cpuMsPerOrder: number | undefined;
  /** The 1-minute load average when the phase ended. */
  loadAverage: number;
  consoleRequests: number;
  consoleRequestsPerSecond: number;
  consoleFailures: number;
  consoleKiBPerSecond: number;
  consoleP50Ms: number | undefined;
  consoleP95Ms: number | undefined;
  logLinesTailed: number;
  partialAnswers: number;
  firstFailure?: string;
}

interface Platform {
  pid: number | undefined;
  gateway: string;
  customers: Customer[];
  products: Awaited<ReturnType<typeof catalog>>;
  adminToken: string;
}

async function phase(
  platform: Platform,
  settings: Config,
  round: number,
  setting: Setting,
  productOffset: number,
): Promise<PhaseSample & { started: number }> {
  const client = new ConsoleClient(platform.gateway, platform.adminToken);
  const open = setting === "open" ? openConsole(settings.tabs, client) : undefined;
  const { pid } = platform;
  const result = await closedLoop({
    customers: platform.customers,
    products: platform.products,
    productOffset,
    durationMs: settings.durationSeconds * 1000,
    ...(pid === undefined ? {} : { cpu: () => cpuSeconds(pid) }),
  }).finally(() => open?.close());
  const { tally } = client;
  const firstFailure = tally.firstFailure ?? result.firstFailure;
  return {
    round,
    console: setting,
    seconds: result.seconds,
    started: result.started,
    ordersPerSecond: result.confirmed / result.seconds,
    confirmed: result.confirmed,
    cancelled: result.cancelled,
    failed: result.failed,
    p50Ms: percentile(result.latenciesMs, 0.5),
    p95Ms: percentile(result.latenciesMs, 0.95),
    cpuMsPerOrder:
      result.cpuSeconds === undefined || result.confirmed === 0
        ? undefined
        : (result.cpuSeconds * 1000) / result.confirmed,
    loadAverage: loadavg()[0] ?? 0,
    consoleRequests: tally.requests,
    consoleRequestsPerSecond: tally.requests / result.seconds,
    consoleFailures: tally.failures,
    consoleKiBPerSecond: tally.bytes / 1024 / result.seconds,
    consoleP50Ms: percentile(tally.latenciesMs, 0.5),
    consoleP95Ms: percentile(tally.latenciesMs, 0.95),
    logLinesTailed: tally.logLines,
    partialAnswers: tally.partial,
    ...(firstFailure ? { firstFailure } : {}),
  };
}

/** The spans of one checkout's trace and the whole metrics history, as the platform serves them. */
async function platformSamples(platform: Platform): Promise<PlatformSamples> {
  const client = new ConsoleClient(platform.gateway, platform.adminToken);
  const metrics = await fetch(`${platform.gateway}/api/ops/metrics`, {
    headers: { authorization: `Bearer ${platform.adminToken}` },
  }).then((answer) => (answer.ok ? answer.text() : undefined));
  const list = await client.get<{ items: Array<{ traceId: string; spanCount: number }> }>(
    "/api/ops/traces?limit=100",
  );
  // A checkout's trace (the POST, its saga's events and their handlers) is the largest of the recent ones.
  const checkout = [...(list?.items ?? [])].sort((a, b) => b.spanCount - a.spanCount)[0];
  const detail = checkout
    ? await client.get<{ spans: StoredSpan[] }>(`/api/ops/traces/${checkout.traceId}`)
    : undefined;
  return { checkoutSpans: detail?.spans, metricsText: metrics };
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const settings = config(options);
  const loadBefore = loadLine();
  const machineBefore = machine();
  const dir = await mkdtemp(join(tmpdir(), "blossom-bench-console-"));
  const samples: PhaseSample[] = [];
  const failures: string[] = [];
  const notes: string[] = [];
  let platformData: PlatformSamples = { checkoutSpans: undefined, metricsText: undefined };
  log(`starting the embedded platform (blossom start, LOG_LEVEL=${settings.logLevel})`);
  const { proc, gateway } = await startEmbeddedPlatform(dir, {
    ...UNLIMITED_RATES,
    BLOSSOM_SEED: "true",
    BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // A long run must not outlive the customers' and the admin's tokens (15 minutes by default).
    USERS_ACCESS_TOKEN_TTL_SECONDS: "86400",
    LOG_LEVEL: settings.logLevel,
  });
  try {
    log(`signing up ${settings.customers} customers`);
    const customers = await signUpCustomers([gateway], settings.customers, "console");
    const products = await catalog(gateway);
    await restock(gateway, ADMIN_PASSWORD, products, RESTOCK_UNITS);
    const admin = await ShopClient.logIn(gateway, "admin@blossom.local", ADMIN_PASSWORD);
    const platform: Platform = {
      pid: proc.child.pid,
      gateway,
      customers,
      products,
      adminToken: admin.tokens.accessToken,
    };
    // Warm-up, console open: the first ops reads and checkouts compile their code paths.
    log("warm-up: checkouts with the console open");
    const warmConsole = openConsole(settings.tabs, new ConsoleClient(gateway, platform.adminToken));
    const warm = await closedLoop({ customers, products, orders: customers.length * 2 }).finally(() =>
      warmConsole.close(),
    );
    let offset = warm.started;
    for (let round = 1; round <= settings.rounds; round++) {
      const order: Setting[] = round % 2 === 1 ? ["closed", "open"] : ["open", "closed"];
      for (const setting of order) {
        await sleep(DRAIN_MS);
        log(`round ${round}/${settings.rounds}: console ${setting}, ${settings.durationSeconds} s`);
        const { started, ...sample } = await phase(platform, settings, round, setting, offset);
        offset += started;
        samples.push(sample);
      }
    }
    platformData = await platformSamples(platform).catch((error: unknown) => {
      notes.push(`could not read the platform's trace and metrics for the buffers: ${errorMessage(error)}`);
      return platformData;
    });
  } catch (error) {
    failures.push(errorMessage(error));
  } finally {
    await stopProcess(proc.child, proc.exited);
    await rm(dir, { recursive: true, force: true });
  }

  log("filling the in-memory buffers to capacity (this process)");
  let fills: BufferFill[] = [];
  let gcExposed = false;
  try {
    ({ fills, gc: gcExposed } = await fillBuffers(platformData));
  } catch (error) {
    failures.push(`buffers: ${errorMessage(error)}`);
  }

  const of = (setting: Setting) => samples.filter((sample) => sample.console === setting);
  const med = (
    setting: Setting,
    key: "ordersPerSecond" | "p50Ms" | "p95Ms" | "cpuMsPerOrder" | "consoleRequestsPerSecond",
  ) => median(of(setting).flatMap((sample) => sample[key] ?? []));
  const sum = (setting: Setting, key: "confirmed" | "cancelled" | "failed" | "consoleFailures") =>
    of(setting).reduce((total, sample) => total + sample[key], 0);

  const phaseRows: Cell[][] = samples.map((sample) => [
    `${sample.round}`,
    `console ${sample.console}`,
    sample.ordersPerSecond,
    sample.p50Ms,
    sample.p95Ms,
    sample.cpuMsPerOrder,
    String(sample.confirmed),
    String(sample.cancelled + sample.failed),
    sample.console === "open" ? sample.consoleRequestsPerSecond : undefined,
    sample.console === "open" ? sample.consoleKiBPerSecond : undefined,
    sample.console === "open" ? sample.consoleP95Ms : undefined,
    sample.console === "open" ? String(sample.consoleFailures) : undefined,
    sample.loadAverage,
  ]);
  const summaryRows: Cell[][] = (["closed", "open"] as const).map((setting) => [
    `console ${setting}`,
    med(setting, "ordersPerSecond"),
    med(setting, "p50Ms"),
    med(setting, "p95Ms"),
    med(setting, "cpuMsPerOrder"),
    setting === "open" ? med(setting, "consoleRequestsPerSecond") : undefined,
    of(setting)
      .map((sample) => sample.ordersPerSecond.toFixed(1))
      .join(" "),
  ]);
  const share = shareOf(med("open", "ordersPerSecond"), med("closed", "ordersPerSecond"));
  const failedOrders = sum("open", "failed") + sum("closed", "failed");
  const objective =
    share === undefined
      ? "not measured"
      : `${share >= OBJECTIVE_SHARE ? "met" : "missed"}${failedOrders > 0 ? ` (inconclusive: ${failedOrders} orders failed)` : ""}`;
  for (const sample of samples)
    if (sample.firstFailure)
      notes.push(`round ${sample.round}, console ${sample.console}: ${sample.firstFailure.slice(0, 200)}`);
  const partial = samples.reduce((total, sample) => total + sample.partialAnswers, 0);
  if (partial > 0)
    notes.push(
      `${partial} console answers named instances that did not answer the gateway in time (unavailable)`,
    );
  const consoleFailures = sum("open", "consoleFailures");
  if (consoleFailures > 0)
    notes.push(`${consoleFailures} console requests failed: the open phases are not what an admin sees`);
  const openSamples = of("open");
  if (
    openSamples.length > 0 &&
    openSamples.every((sample) => sample.consoleRequests === sample.consoleFailures)
  )
    failures.push("no console request succeeded");

  const tabs = settings.tabs.join(" + ");
  const text = [
    `console: checkouts on one embedded platform (\`blossom start\`, PGlite, memory bus, LOG_LEVEL=${settings.logLevel}) with the operations console closed and open (tabs: ${tabs}), alternating; ${settings.rounds} round(s) of ${settings.durationSeconds} s per phase`,
    `  ${loadBefore} (before)`,
    "",
    table(
      `phases in run order: ${settings.customers} customers, closed loop (POST /api/orders, then GET with Prefer: wait until settled); CPU ms/order = the platform process's user+system CPU per confirmed order; console = the admin's tabs' requests through the gateway`,
      [
        "round",
        "phase",
        "confirmed/s",
        "p50 ms",
        "p95 ms",
        "CPU ms/order",
        "confirmed",
        "cancelled+failed",
        "console req/s",
        "console KiB/s",
        "console p95 ms",
        "console failed",
        "load 1m",
      ],
      phaseRows,
    ),
    table(
      "medians",
      ["phase", "confirmed/s", "p50 ms", "p95 ms", "CPU ms/order", "console req/s", "samples /s"],
      summaryRows,
    ),
    `  open/closed: confirmed/s ${ratio(med("open", "ordersPerSecond"), med("closed", "ordersPerSecond")) ?? "-"} (objective >= ${OBJECTIVE_SHARE}x: ${objective}), CPU/order ${ratio(med("open", "cpuMsPerOrder"), med("closed", "cpuMsPerOrder")) ?? "-"}, p95 ${ratio(med("open", "p95Ms"), med("closed", "p95Ms")) ?? "-"}`,
    `  the live tail received ${openSamples.reduce((total, sample) => total + sample.logLinesTailed, 0)} log lines over the open phases${settings.logLevel === "warn" ? " (LOG_LEVEL=warn: no access lines; BENCH_CONSOLE_LOG_LEVEL=info for the talkative case)" : ""}`,
    ...notes.map((note) => `  note: ${note}`),
    `  ${loadLine()} (after the load)`,
    "",
    fills.length > 0 ? buffersTable(fills, gcExposed) : "",
    ...(failures.length > 0 ? [`FAILED: ${failures.join("; ")}`, ""] : []),
  ].join("\n");

  return {
    name: "console",
    text,
    failed: failures.length > 0,
    json: {
      benchmark: "console",
      finishedAt: new Date().toISOString(),
      quick: options.quick,
      ...settings,
      drainMs: DRAIN_MS,
      objectiveMinThroughputShare: OBJECTIVE_SHARE,
      machineBefore,
      machineAfter: machine(),
      phases: samples,
      median: Object.fromEntries(
        (["closed", "open"] as const).map((setting) => [
          setting,
          {
            ordersPerSecond: med(setting, "ordersPerSecond"),
            p50Ms: med(setting, "p50Ms"),
            p95Ms: med(setting, "p95Ms"),
            cpuMsPerOrder: med(setting, "cpuMsPerOrder"),
            consoleRequestsPerSecond: med(setting, "consoleRequestsPerSecond"),
          },
        ]),
      ),
      openToClosed: {
        checkoutThroughput: share,
        cpuPerOrder: shareOf(med("open", "cpuMsPerOrder"), med("closed", "cpuMsPerOrder")),
      },
      objectiveMet: share === undefined || failedOrders > 0 ? "inconclusive" : share >= OBJECTIVE_SHARE,
      failedOrders,
      buffers: { gcExposed, fills },
      failures,
      notes,
    },
  };
}

function shareOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}
