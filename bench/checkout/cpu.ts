/**
 * CPU accounting of the checkout benchmark: user+system time from /proc of the servers a cluster
 * uses (the PostgreSQL backends of its databases, nats-server, redis-server), and per-order figures.
 */
import pg from "pg";
import type { LoadResult } from "../checkout-load.js";
import { cpuSeconds, processesNamed } from "../processes.js";
import type { PhaseSummary } from "./phases.js";
import type { Platform } from "./platform.js";

/** PostgreSQL backends serving `databases`, NATS and Redis: pid -> CPU seconds so far. */
export async function serverCpu(
  postgresUrl: string,
  databases: readonly string[],
): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5_000 });
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

/** `work` with the CPU its servers used meanwhile (summed over processes seen at the end). */
export async function withServerCpu(
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

/** Milliseconds of CPU per confirmed order. */
export function perOrder(seconds: number | undefined, confirmed: number): number | undefined {
  return seconds === undefined || confirmed === 0 ? undefined : (seconds * 1000) / confirmed;
}

/** CPU of the platform and its servers per second of the phase: how much of the machine it kept busy. */
export function coresBusy(phase: PhaseSummary): number | undefined {
  if (phase.cpuMsPerOrder === undefined) return undefined;
  return ((phase.cpuMsPerOrder + (phase.serverCpuMsPerOrder ?? 0)) * phase.ordersPerSecond) / 1000;
}

/** Blossom processes' and servers' CPU per order together. */
export function totalCpu(phase: PhaseSummary | undefined): number | undefined {
  return phase?.cpuMsPerOrder === undefined
    ? undefined
    : phase.cpuMsPerOrder + (phase.serverCpuMsPerOrder ?? 0);
}
