/**
 * Catalog reads: GET /api/inventory/products/:id through the gateway (autocannon, this process),
 * against `blossom cluster --replicas 1,inventory=<n>`: what a second inventory replica does.
 */
import { catalog, signUpCustomers } from "../checkout-load.js";
import { measure, type Sample, WARMUP_SECONDS } from "../measure.js";
import { cpuSeconds } from "../processes.js";
import { errorMessage } from "../report.js";
import { startCluster } from "./cluster.js";
import type { CheckoutOptions } from "./options.js";
import type { Platform, PlatformSetup } from "./platform.js";

/** Catalog reads discarded before the measured ones, on top of measure()'s own warm-up (twice). */
const READ_EXTRA_WARMUP_SECONDS = 1;
export const READ_WARMUP_SECONDS = 2 * WARMUP_SECONDS + READ_EXTRA_WARMUP_SECONDS;

export interface ReadResult {
  inventoryReplicas: number;
  replicasArgument: string;
  processes?: number;
  sku?: string;
  sample?: Sample;
  /** CPU seconds each inventory instance used during the reads (warm-up included). */
  inventoryCpuSeconds?: number[];
  failures: string[];
}

/** One cluster with `inventoryReplicas` inventory instances, read at `sku` (the first product when unset). */
export async function catalogReads(
  inventoryReplicas: number,
  settings: CheckoutOptions,
  setup: PlatformSetup,
  notes: string[],
  sku: string | undefined,
): Promise<ReadResult> {
  const replicasArgument = `1,inventory=${inventoryReplicas}`;
  const result: ReadResult = { inventoryReplicas, replicasArgument, failures: [] };
  process.stderr.write(`checkout: reads: starting blossom cluster --replicas ${replicasArgument}\n`);
  let platform: Platform | undefined;
  try {
    platform = await startCluster(replicasArgument, setup);
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
