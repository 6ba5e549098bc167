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
 * The targets (>= 500 confirmed orders/s in cluster mode; p95 place -> confirmed under
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
 *
 * Its BENCH_* variables are read once, in checkout/options.ts (and listed by `npm run bench -- --help`).
 * The parts: checkout/embedded.ts and checkout/cluster.ts start the platforms, checkout/phases.ts
 * runs the two phases on one, checkout/reads.ts the catalog reads, checkout/cpu.ts counts CPU and
 * checkout/report.ts writes the tables; the load itself is checkout-load.ts (shared with telemetry).
 */

import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster, unreachableServers } from "./checkout/cluster.js";
import { startEmbedded } from "./checkout/embedded.js";
import { readCheckoutEnvironment, readCheckoutOptions } from "./checkout/options.js";
import { runTopology, TOPOLOGY_LABELS } from "./checkout/phases.js";
import type { PlatformSetup } from "./checkout/platform.js";
import { catalogReads } from "./checkout/reads.js";
import { type CheckoutRun, checkoutReport } from "./checkout/report.js";
import { type BenchOptions, type BenchResult, loadLine, machine } from "./report.js";

export async function run(options: BenchOptions): Promise<BenchResult> {
  const measured: CheckoutRun = {
    bench: options,
    settings: readCheckoutOptions(options),
    environment: readCheckoutEnvironment(),
    loadBefore: loadLine(),
    machineBefore: machine(),
    topologies: [],
    reads: [],
    clusterSkipped: undefined,
    notes: [],
  };
  const { settings, environment, topologies, reads, notes } = measured;
  const dir = await mkdtemp(join(tmpdir(), "blossom-bench-checkout-"));
  const setup: PlatformSetup = { dir, adminPassword: `bench-admin-${randomUUID()}`, environment };
  try {
    if (settings.parts.includes("embedded")) {
      topologies.push(
        await runTopology("embedded", () => startEmbedded(setup), settings, setup.adminPassword, notes),
      );
    }
    if (settings.parts.includes("cluster") || settings.parts.includes("reads")) {
      measured.clusterSkipped = await unreachableServers(environment.servers);
    }
    if (settings.parts.includes("cluster")) {
      if (measured.clusterSkipped) {
        topologies.push({
          id: "cluster",
          label: TOPOLOGY_LABELS.cluster,
          skipped: measured.clusterSkipped,
          failures: [],
        });
      } else {
        topologies.push(
          await runTopology(
            "cluster",
            () => startCluster(settings.replicas, setup, environment.cpuProfileDir),
            settings,
            setup.adminPassword,
            notes,
          ),
        );
      }
    }
    if (settings.parts.includes("reads") && !measured.clusterSkipped) {
      for (const replicas of [1, 2]) {
        reads.push(await catalogReads(replicas, settings, setup, notes, reads[0]?.sku));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  return checkoutReport(measured);
}
