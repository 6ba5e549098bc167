/**
 * What full instrumentation costs: the whole platform runs twice, each as one `blossom start`
 * process (embedded adapters, own data dir and ports), once with telemetry on (OpenTelemetry
 * tracing with the HTTP, undici and pg instrumentations, and the in-memory span buffer) and once
 * with it off (OTEL_SDK_DISABLED=true, BLOSSOM_TRACE_BUFFER_SPANS=0). Both are measured in the
 * same run, in alternating order from round to round so that a change in machine load hits both:
 *
 *   product read  GET /api/inventory/products/:id through the gateway (autocannon, this process)
 *   checkout      customers placing orders concurrently through the gateway, each with an
 *                 Idempotency-Key, polling until the order is confirmed or cancelled
 *
 * Prometheus metrics stay on in both: prom-client is always on and has no switch.
 *
 *   BENCH_TELEMETRY_DURATION     seconds of product reads per platform and round (default 5; --quick 2)
 *   BENCH_TELEMETRY_CONNECTIONS  concurrent connections of the product reads (default 10)
 *   BENCH_TELEMETRY_ROUNDS       rounds (default 2; --quick 1)
 *   BENCH_TELEMETRY_ORDERS       orders per platform and round (default 40; --quick 16)
 *   BENCH_TELEMETRY_CUSTOMERS    customers placing orders at once (default 8)
 *   BENCH_TELEMETRY_CPU_PROF     a directory: the telemetry-on platform runs with --cpu-prof and writes its profile there
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BlossomProcess } from "@blossom/testkit";
import type { Product } from "../tests/support/shop-client.js";
import {
  type Customer,
  closedLoop,
  percentile,
  productsWithStock,
  signUpCustomers,
} from "./checkout-load.js";
import { measure, type Sample, WARMUP_SECONDS } from "./measure.js";
import {
  cpuProfileArgs,
  cpuSeconds,
  startEmbeddedPlatform,
  stopProcess,
  UNLIMITED_RATES,
} from "./processes.js";
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

/** The issue's budget: telemetry on keeps at least this share of telemetry off's throughput. */
const BUDGET_SHARE = 0.85;

type SettingId = "on" | "off";

const SETTINGS: Record<SettingId, { label: string; env: Record<string, string> }> = {
  on: {
    label: "telemetry on (tracing + span buffer)",
    env: { OTEL_SDK_DISABLED: "false", BLOSSOM_TRACE_BUFFER_SPANS: "10000" },
  },
  off: {
    label: "telemetry off (OTEL_SDK_DISABLED, no buffer)",
    env: { OTEL_SDK_DISABLED: "true", BLOSSOM_TRACE_BUFFER_SPANS: "0" },
  },
};

interface Config {
  durationSeconds: number;
  connections: number;
  rounds: number;
  orders: number;
  customers: number;
  /** The telemetry-on platform's --cpu-prof directory (BENCH_TELEMETRY_CPU_PROF), if any. */
  cpuProfileDir: string | undefined;
}

/** Every BENCH_* variable of this benchmark, read once. */
function config(options: BenchOptions): Config {
  return {
    durationSeconds: positiveInteger("BENCH_TELEMETRY_DURATION", options.quick ? 2 : 5),
    connections: positiveInteger("BENCH_TELEMETRY_CONNECTIONS", 10),
    rounds: positiveInteger("BENCH_TELEMETRY_ROUNDS", options.quick ? 1 : 2),
    orders: positiveInteger("BENCH_TELEMETRY_ORDERS", options.quick ? 16 : 40),
    customers: positiveInteger("BENCH_TELEMETRY_CUSTOMERS", 8),
    cpuProfileDir: benchVariable("BENCH_TELEMETRY_CPU_PROF"),
  };
}

/** One platform (one `blossom start` process) and what the benchmark needs to drive it. */
interface Platform {
  id: SettingId;
  proc: BlossomProcess;
  gateway: string;
  customers: Customer[];
  /** Products with stock, ordered round-robin so no single stock row becomes the bottleneck. */
  products: Product[];
}

interface CheckoutSample {
  ordersPerSecond: number;
  placed: number;
  confirmed: number;
  cancelled: number;
  /** Orders whose POST failed, or that did not settle in time. */
  failed: number;
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  cpuMsPerOrder: number | undefined;
  firstFailure?: string;
}

interface Series {
  reads: Sample[];
  checkouts: CheckoutSample[];
  failures: string[];
}

async function startPlatform(id: SettingId, dir: string, settings: Config) {
  const { proc, gateway } = await startEmbeddedPlatform(
    join(dir, id),
    // Every customer shares 127.0.0.1: the limits meant for abuse would throttle the benchmark.
    { ...SETTINGS[id].env, ...UNLIMITED_RATES },
    id === "on" ? cpuProfileArgs(settings.cpuProfileDir) : [],
  );
  try {
    const customers = await signUpCustomers([gateway], settings.customers);
    const products = await productsWithStock(gateway, settings.orders * settings.rounds);
    return { id, proc, gateway, customers, products } satisfies Platform;
  } catch (error) {
    await stopProcess(proc.child, proc.exited);
    throw error;
  }
}

/** One round of checkouts: `orders` orders placed by the customers in parallel, each settled before its next. */
async function checkout(platform: Platform, orders: number, roundIndex: number): Promise<CheckoutSample> {
  const pid = platform.proc.child.pid;
  const result = await closedLoop({
    customers: platform.customers,
    products: platform.products,
    productOffset: roundIndex * orders,
    orders,
    ...(pid === undefined ? {} : { cpu: () => cpuSeconds(pid) }),
  });
  const { confirmed, cpuSeconds: cpuUsed } = result;
  return {
    ordersPerSecond: confirmed / result.seconds,
    placed: orders - result.failed,
    confirmed,
    cancelled: result.cancelled,
    failed: result.failed,
    p50Ms: percentile(result.latenciesMs, 0.5),
    p95Ms: percentile(result.latenciesMs, 0.95),
    cpuMsPerOrder: cpuUsed === undefined || confirmed === 0 ? undefined : (cpuUsed * 1000) / confirmed,
    ...(result.firstFailure ? { firstFailure: result.firstFailure } : {}),
  };
}

function shareNumber(on: number | undefined, off: number | undefined): number | undefined {
  return on === undefined || off === undefined || off === 0 ? undefined : on / off;
}

function verdict(share: number | undefined): string {
  if (share === undefined) return "not measured";
  const loss = (1 - share) * 100;
  const within = share >= BUDGET_SHARE ? "within" : "OVER";
  return `${loss >= 0 ? `${loss.toFixed(1)}% loss` : `${(-loss).toFixed(1)}% gain`}, ${within} the ${((1 - BUDGET_SHARE) * 100).toFixed(0)}% budget`;
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const settings = config(options);
  const loadBefore = loadLine();
  const machineBefore = machine();
  const dir = await mkdtemp(join(tmpdir(), "blossom-bench-telemetry-"));
  const series: Record<SettingId, Series> = {
    on: { reads: [], checkouts: [], failures: [] },
    off: { reads: [], checkouts: [], failures: [] },
  };
  const notes: string[] = [];
  const platforms: Platform[] = [];
  let path = "";
  try {
    process.stderr.write("telemetry: starting two platforms (telemetry on, telemetry off)\n");
    for (const id of ["on", "off"] as const) platforms.push(await startPlatform(id, dir, settings));
    // The demo seed gives both platforms the same catalog, but not the same ids: read one SKU on both.
    const sku = platforms[0]?.products[0]?.sku;
    const paths = new Map(
      platforms.map((platform) => {
        const product = platform.products.find((candidate) => candidate.sku === sku);
        if (!product) throw new Error(`product ${sku} missing on the telemetry-${platform.id} platform`);
        return [platform.id, `/api/inventory/products/${product.id}`];
      }),
    );
    path = `/api/inventory/products/:id (${sku})`;

    for (let round = 0; round < settings.rounds; round++) {
      // Alternate which platform goes first, so load drift within a round hits both alike.
      const order = round % 2 === 0 ? platforms : [...platforms].reverse();
      for (const platform of order) {
        process.stderr.write(
          `telemetry: round ${round + 1}/${settings.rounds}: product read, ${SETTINGS[platform.id].label}\n`,
        );
        const token = platform.customers[0]?.client.tokens.accessToken ?? "";
        await measure(
          { url: platform.gateway, pid: platform.proc.child.pid },
          paths.get(platform.id) ?? "",
          token,
          settings,
        ).then(
          (sample) => series[platform.id].reads.push(sample),
          (error: unknown) => series[platform.id].failures.push(`product read: ${errorMessage(error)}`),
        );
      }
      for (const platform of order) {
        process.stderr.write(
          `telemetry: round ${round + 1}/${settings.rounds}: checkout, ${SETTINGS[platform.id].label}\n`,
        );
        await checkout(platform, settings.orders, round).then(
          (sample) => series[platform.id].checkouts.push(sample),
          (error: unknown) => series[platform.id].failures.push(`checkout: ${errorMessage(error)}`),
        );
      }
    }
  } finally {
    await Promise.allSettled(
      platforms.map((platform) => stopProcess(platform.proc.child, platform.proc.exited)),
    );
    await rm(dir, { recursive: true, force: true });
  }

  const read = (id: SettingId, key: "requestsPerSecond" | "p50Ms" | "p99Ms" | "cpuUsPerRequest") =>
    median(series[id].reads.flatMap((sample) => sample[key] ?? []));
  const order = (id: SettingId, key: "ordersPerSecond" | "p50Ms" | "p95Ms" | "cpuMsPerOrder") =>
    median(series[id].checkouts.flatMap((sample) => sample[key] ?? []));
  const sum = (id: SettingId, key: "confirmed" | "cancelled" | "failed") =>
    series[id].checkouts.reduce((total, sample) => total + sample[key], 0);

  const readRows: Cell[][] = (["on", "off"] as const).map((id) => [
    SETTINGS[id].label,
    read(id, "requestsPerSecond"),
    read(id, "p50Ms"),
    read(id, "p99Ms"),
    read(id, "cpuUsPerRequest"),
    // Counts as text: the table would print a number as 0.00.
    String(
      series[id].reads.reduce((total, sample) => total + sample.non2xx + sample.errors + sample.timeouts, 0),
    ),
    series[id].reads.map((sample) => Math.round(sample.requestsPerSecond)).join(" "),
  ]);
  const checkoutRows: Cell[][] = (["on", "off"] as const).map((id) => [
    SETTINGS[id].label,
    order(id, "ordersPerSecond"),
    order(id, "p50Ms"),
    order(id, "p95Ms"),
    order(id, "cpuMsPerOrder"),
    String(sum(id, "confirmed")),
    String(sum(id, "cancelled")),
    String(sum(id, "failed")),
    series[id].checkouts.map((sample) => sample.ordersPerSecond.toFixed(1)).join(" "),
  ]);
  const readShare = shareNumber(read("on", "requestsPerSecond"), read("off", "requestsPerSecond"));
  const checkoutShare = shareNumber(order("on", "ordersPerSecond"), order("off", "ordersPerSecond"));
  for (const id of ["on", "off"] as const) {
    for (const failure of series[id].failures) notes.push(`FAILED ${SETTINGS[id].label}: ${failure}`);
    for (const sample of series[id].checkouts)
      if (sample.firstFailure) notes.push(`${SETTINGS[id].label}: ${sample.firstFailure.slice(0, 160)}`);
  }
  // Failed orders (an overloaded machine trips the gateway's breaker) make the two sides' work unequal.
  const failedOrders = sum("on", "failed") + sum("off", "failed");
  const measured = readShare !== undefined && checkoutShare !== undefined && failedOrders === 0;
  const withinBudget = measured ? readShare >= BUDGET_SHARE && checkoutShare >= BUDGET_SHARE : undefined;
  const budgetLine =
    withinBudget === undefined
      ? `INCONCLUSIVE (${failedOrders > 0 ? `${failedOrders} orders failed: rerun on a quieter machine` : "a figure is missing"})`
      : withinBudget
        ? "holds"
        : "DOES NOT HOLD";

  const text = [
    `telemetry: the whole platform twice (one \`blossom start\` process each, PGlite, memory bus), telemetry on vs off, alternating order; median of ${settings.rounds} round(s)`,
    `  ${loadBefore} (before)`,
    "",
    table(
      `product read: GET ${path} through the gateway, ${settings.connections} connections, ${settings.durationSeconds} s after ${WARMUP_SECONDS} s warm-up; CPU µs/req = the platform process's user+system CPU per request`,
      ["setting", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "non-2xx+errors", "samples req/s"],
      readRows,
    ),
    table(
      `checkout: ${settings.orders} orders per round by ${settings.customers} customers at once through the gateway (Idempotency-Key), each awaited with GET and Prefer: wait until settled; latency = POST -> seen confirmed`,
      [
        "setting",
        "confirmed/s",
        "p50 ms",
        "p95 ms",
        "CPU ms/order",
        "confirmed",
        "cancelled",
        "failed",
        "samples /s",
      ],
      checkoutRows,
    ),
    `  on/off: product read req/s ${ratio(read("on", "requestsPerSecond"), read("off", "requestsPerSecond")) ?? "-"} (${verdict(readShare)}), CPU/req ${ratio(read("on", "cpuUsPerRequest"), read("off", "cpuUsPerRequest")) ?? "-"}`,
    `  on/off: checkout confirmed/s ${ratio(order("on", "ordersPerSecond"), order("off", "ordersPerSecond")) ?? "-"} (${verdict(checkoutShare)}), p50 ${ratio(order("on", "p50Ms"), order("off", "p50Ms")) ?? "-"}, CPU/order ${ratio(order("on", "cpuMsPerOrder"), order("off", "cpuMsPerOrder")) ?? "-"}`,
    `  budget (at most ${((1 - BUDGET_SHARE) * 100).toFixed(0)}% throughput loss with telemetry on): ${budgetLine}`,
    "  note: Prometheus metrics (prom-client) stay on in both settings: there is no switch for them",
    ...(settings.cpuProfileDir
      ? [`  note: the telemetry-on platform wrote a CPU profile to ${resolve(settings.cpuProfileDir)}`]
      : []),
    ...notes.map((note) => `  note: ${note}`),
    `  ${loadLine()} (after)`,
    "",
  ].join("\n");

  return {
    name: "telemetry",
    text,
    failed: series.on.failures.length + series.off.failures.length > 0,
    json: {
      benchmark: "telemetry",
      finishedAt: new Date().toISOString(),
      quick: options.quick,
      ...settings,
      warmupSeconds: WARMUP_SECONDS,
      budgetMaxThroughputLoss: 1 - BUDGET_SHARE,
      machineBefore,
      machineAfter: machine(),
      settings: (["on", "off"] as const).map((id) => ({
        id,
        label: SETTINGS[id].label,
        env: SETTINGS[id].env,
        productReads: series[id].reads,
        checkouts: series[id].checkouts,
        failures: series[id].failures,
        median: {
          requestsPerSecond: read(id, "requestsPerSecond"),
          readP50Ms: read(id, "p50Ms"),
          readP99Ms: read(id, "p99Ms"),
          cpuUsPerRequest: read(id, "cpuUsPerRequest"),
          ordersPerSecond: order(id, "ordersPerSecond"),
          checkoutP50Ms: order(id, "p50Ms"),
          checkoutP95Ms: order(id, "p95Ms"),
          cpuMsPerOrder: order(id, "cpuMsPerOrder"),
        },
      })),
      onToOff: {
        productReadThroughput: readShare,
        checkoutThroughput: checkoutShare,
        productReadCpuPerRequest: shareNumber(read("on", "cpuUsPerRequest"), read("off", "cpuUsPerRequest")),
        checkoutCpuPerOrder: shareNumber(order("on", "cpuMsPerOrder"), order("off", "cpuMsPerOrder")),
      },
      withinBudget: withinBudget ?? "inconclusive",
      failedOrders,
      notes,
    },
  };
}
