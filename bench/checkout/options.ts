/**
 * The checkout benchmark's options: every BENCH_CHECKOUT_* variable (and the servers of its
 * cluster), read once when the benchmark starts, with its default, and refused with its name and
 * value when it is set to something unusable.
 */
import type { BenchOptions } from "../report.js";
import {
  type BenchServers,
  benchServers,
  benchVariable,
  optionalPositiveInteger,
  positiveInteger,
  positiveNumber,
} from "../settings.js";

export type Part = "embedded" | "cluster" | "reads";
const PARTS: readonly Part[] = ["embedded", "cluster", "reads"];

export interface CheckoutOptions {
  /** BENCH_CHECKOUT_DURATION: seconds of the saturation phase per topology (default 15; --quick 4). */
  durationSeconds: number;
  /** BENCH_CHECKOUT_ORDERS: a fixed number of saturation orders instead of a duration. */
  orders: number | undefined;
  /** BENCH_CHECKOUT_CUSTOMERS: customers placing orders at once (default 16). */
  customers: number;
  /**
   * BENCH_CHECKOUT_POLL_MS: poll a pending order at this interval in the saturation phase
   * (unset: no polling, GET with Prefer: wait=10).
   */
  pollMs: number | undefined;
  /** BENCH_CHECKOUT_PACED_DURATION: seconds of the paced phase (default: the saturation phase's). */
  pacedSeconds: number;
  /** BENCH_CHECKOUT_PACED_RATE: orders/s of the paced phase (default: half the topology's saturation rate). */
  pacedRate: number | undefined;
  /** BENCH_CHECKOUT_PACED_POLL_MS: as pollMs, in the paced phase. */
  pacedPollMs: number | undefined;
  /** BENCH_CHECKOUT_MAX_IN_FLIGHT: orders pending at once in the paced phase, at most (default 64). */
  maxInFlight: number;
  /** BENCH_CHECKOUT_REPLICAS: --replicas of the checkout cluster (default 2: every service and the gateway twice). */
  replicas: string;
  /** BENCH_CHECKOUT_READ_DURATION: seconds of catalog reads per inventory replica count (default 5; --quick 2). */
  readSeconds: number;
  /** BENCH_CHECKOUT_READ_CONNECTIONS: concurrent connections of the catalog reads (default 20). */
  readConnections: number;
  /** BENCH_CHECKOUT_PARTS: what to run, comma-separated: embedded,cluster,reads (default all). */
  parts: Part[];
}

/** What the platforms run with, beyond the figures' options (not part of the result's settings). */
export interface CheckoutEnvironment {
  /**
   * BENCH_CHECKOUT_TELEMETRY: `off`, every platform without tracing; `without=pg,undici`, tracing
   * without those instrumentations (OTEL_NODE_DISABLED_INSTRUMENTATIONS); default `on`, as `npm start` runs.
   */
  telemetry: string;
  /** The platforms' variables that give them that telemetry. */
  telemetryEnv: Record<string, string>;
  /**
   * BENCH_CHECKOUT_CPU_PROF: a directory where the embedded process, the cluster's supervisor and instances
   * write their --cpu-prof profiles (file names carry the pid; stderr maps pids to services).
   */
  cpuProfileDir: string | undefined;
  /** BENCH_POSTGRES_URL, BENCH_NATS_URL, BENCH_REDIS_URL: the cluster's servers. */
  servers: BenchServers;
}

export function readCheckoutOptions(bench: BenchOptions): CheckoutOptions {
  const durationSeconds = positiveInteger("BENCH_CHECKOUT_DURATION", bench.quick ? 4 : 15);
  const parts = (benchVariable("BENCH_CHECKOUT_PARTS") ?? PARTS.join(","))
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
    orders: optionalPositiveInteger("BENCH_CHECKOUT_ORDERS"),
    customers: positiveInteger("BENCH_CHECKOUT_CUSTOMERS", 16),
    pollMs: positiveNumber("BENCH_CHECKOUT_POLL_MS"),
    pacedSeconds: positiveInteger("BENCH_CHECKOUT_PACED_DURATION", durationSeconds),
    pacedRate: positiveNumber("BENCH_CHECKOUT_PACED_RATE"),
    pacedPollMs: positiveNumber("BENCH_CHECKOUT_PACED_POLL_MS"),
    maxInFlight: positiveInteger("BENCH_CHECKOUT_MAX_IN_FLIGHT", 64),
    replicas: benchVariable("BENCH_CHECKOUT_REPLICAS") ?? "2",
    readSeconds: positiveInteger("BENCH_CHECKOUT_READ_DURATION", bench.quick ? 2 : 5),
    readConnections: positiveInteger("BENCH_CHECKOUT_READ_CONNECTIONS", 20),
    parts: parts as Part[],
  };
}

export function readCheckoutEnvironment(): CheckoutEnvironment {
  const telemetry = benchVariable("BENCH_CHECKOUT_TELEMETRY") ?? "on";
  const without = telemetry.startsWith("without=") ? telemetry.slice("without=".length) : undefined;
  if (telemetry !== "on" && telemetry !== "off" && !without)
    throw new Error(
      `BENCH_CHECKOUT_TELEMETRY must be on, off or without=<instrumentations>, got "${telemetry}"`,
    );
  return {
    telemetry,
    telemetryEnv:
      telemetry === "off"
        ? { OTEL_SDK_DISABLED: "true", BLOSSOM_TRACE_BUFFER_SPANS: "0" }
        : without
          ? { OTEL_NODE_DISABLED_INSTRUMENTATIONS: without }
          : {},
    cpuProfileDir: benchVariable("BENCH_CHECKOUT_CPU_PROF"),
    servers: benchServers(),
  };
}
