/**
 * One topology's checkout run: sign-up, restock, warm-up, then the saturation phase (closed loop)
 * and the paced phase (open loop at half the saturation rate), each summarised.
 */
import type { Product } from "../../tests/support/shop-client.js";
import {
  type Customer,
  catalog,
  closedLoop,
  type LoadResult,
  openLoop,
  percentile,
  restock,
  signUpCustomers,
} from "../checkout-load.js";
import { treeRssMiB } from "../processes.js";
import { errorMessage, fmt } from "../report.js";
import { perOrder, withServerCpu } from "./cpu.js";
import type { CheckoutOptions } from "./options.js";
import type { Platform } from "./platform.js";

/** Units added to every product before the checkouts, so that no run sells out. */
const RESTOCK_UNITS = 100_000;
const MIN_PACED_ORDERS = 10;

export type TopologyId = "embedded" | "cluster";

export const TOPOLOGY_LABELS: Record<TopologyId, string> = {
  embedded: "embedded (blossom start)",
  cluster: "cluster (blossom cluster)",
};

export interface PhaseSummary {
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

export interface PacedSummary extends PhaseSummary {
  offeredPerSecond: number;
  pollMs: number | undefined;
}

export interface TopologyResult {
  id: TopologyId;
  label: string;
  processes?: number;
  gateways?: number;
  startSeconds?: number;
  saturation?: PhaseSummary;
  /** CPU ms per confirmed order of each service's instances during the saturation phase (cluster). */
  saturationCpuByService?: Record<string, number>;
  paced?: PacedSummary;
  /**
   * RSS of the platform's processes (MiB) right after the paced phase, and once it has been idle
   * for RSS_SETTLE_MS (V8 shrinks an idle heap: what `ps` shows a minute after a load).
   */
  rssAfterMiB?: number;
  rssSettledMiB?: number;
  skipped?: string;
  failures: string[];
}

/** How long the platform idles before its settled RSS is read. */
export const RSS_SETTLE_MS = 10_000;

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

/** Sign-up, restock, warm-up, then the saturation and the paced phase on one platform. */
async function checkoutPhases(
  id: TopologyId,
  platform: Platform,
  settings: CheckoutOptions,
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
  result.rssAfterMiB = treeRssMiB(platform.pid);
  await new Promise((settled) => setTimeout(settled, RSS_SETTLE_MS));
  result.rssSettledMiB = treeRssMiB(platform.pid);
}

/** Starts a platform, runs both phases on it and stops it; a failure is recorded in the result, not thrown. */
export async function runTopology(
  id: TopologyId,
  start: () => Promise<Platform>,
  settings: CheckoutOptions,
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
