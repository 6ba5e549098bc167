/**
 * The checkout benchmark's report: the saturation, paced and catalog-read tables, the
 * cluster/embedded ratios and the issue's targets as text, and the same figures as JSON.
 */
import { cpus } from "node:os";
import {
  type BenchOptions,
  type BenchResult,
  type Cell,
  fmt,
  loadLine,
  machine,
  ratio,
  table,
} from "../report.js";
import { coresBusy, totalCpu } from "./cpu.js";
import type { CheckoutEnvironment, CheckoutOptions } from "./options.js";
import { type PhaseSummary, RSS_SETTLE_MS, type TopologyResult } from "./phases.js";
import { READ_WARMUP_SECONDS, type ReadResult } from "./reads.js";

/** The issue's targets. */
const TARGET_ORDERS_PER_SECOND = 500;
const TARGET_P95_MS = 100;

/** What one run measured, and how. */
export interface CheckoutRun {
  bench: BenchOptions;
  settings: CheckoutOptions;
  environment: CheckoutEnvironment;
  loadBefore: string;
  machineBefore: Record<string, unknown>;
  topologies: TopologyResult[];
  reads: ReadResult[];
  /** Why the cluster parts did not run (a server unreachable), if they did not. */
  clusterSkipped: string | undefined;
  /** Notes gathered while running (clean-up failures); the report adds its own. */
  notes: string[];
}

/** How clients learn that an order settled, for the report. */
function waitingHow(pollMs: number | undefined): string {
  return pollMs === undefined
    ? "each client waits with GET /api/orders/:id and Prefer: wait=10 (held until the order settles)"
    : `each client polls GET /api/orders/:id every ${pollMs} ms`;
}

const count = (value: number | undefined) => (value === undefined ? undefined : String(value));

/** The cells both phase tables share: confirmed/s, p50, p95, p99, confirmed, cancelled, failed. */
function outcomeCells(phase: PhaseSummary): Cell[] {
  return [
    phase.ordersPerSecond,
    phase.p50Ms,
    phase.p95Ms,
    phase.p99Ms,
    count(phase.confirmed),
    count(phase.cancelled),
    count(phase.failed),
  ];
}

function holds(value: boolean | undefined): string {
  return value === undefined ? "NOT MEASURED" : value ? "HOLDS" : "DOES NOT HOLD";
}

export function checkoutReport(run: CheckoutRun): BenchResult {
  const { settings, environment, topologies, reads, clusterSkipped, notes } = run;
  const embedded = topologies.find((topology) => topology.id === "embedded");
  const cluster = topologies.find((topology) => topology.id === "cluster");
  const saturationRows: Cell[][] = topologies.map((topology) => {
    const phase = topology.saturation;
    if (!phase) return [topology.label, topology.skipped ? "SKIPPED (see note)" : "FAILED (see note)"];
    return [
      topology.label,
      count(topology.processes),
      ...outcomeCells(phase),
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
      ...outcomeCells(phase),
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
    ...(environment.telemetry === "on"
      ? []
      : [`  telemetry: BENCH_CHECKOUT_TELEMETRY=${environment.telemetry}`]),
    `  ${run.loadBefore} (before)`,
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
      quick: run.bench.quick,
      ...settings,
      servers: environment.servers,
      machineBefore: run.machineBefore,
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
  const rss = topologies
    .filter((topology) => topology.rssAfterMiB !== undefined)
    .map(
      (topology) =>
        `${topology.label} ${fmt(topology.rssAfterMiB ?? 0)} MiB, ${fmt(topology.rssSettledMiB ?? 0)} MiB after ${RSS_SETTLE_MS / 1000} s idle`,
    );
  return `  ready in: ${parts.length > 0 ? parts.join("; ") : "-"}\n${rss.length > 0 ? `  RSS after the load (every process of the platform): ${rss.join("; ")}\n` : ""}`;
}

function ratioNumber(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}
