/** One autocannon run against a server, with the CPU time its process tree spent meanwhile. */
import autocannon from "autocannon";
import { cpuSeconds } from "./processes.js";

/** Seconds of load discarded before every measured run. */
export const WARMUP_SECONDS = 1;

/** What `measure` sends requests to: a base URL, and the process whose CPU time is counted (if known). */
export interface MeasureTarget {
  url: string;
  pid: number | undefined;
}

/** How long and how hard `measure` loads the target. */
export interface MeasureLoad {
  connections: number;
  durationSeconds: number;
}

export interface Sample {
  requestsPerSecond: number;
  /**
   * CPU time (user + system) of the row's process tree per completed request: unlike
   * requests/s it depends little on how busy the rest of the machine is (cache and
   * frequency effects remain).
   */
  cpuUsPerRequest: number | undefined;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

/**
 * One autocannon run (after a warm-up) of GET `path` against `target`, with its process's CPU
 * time; `token` undefined: no Authorization header.
 */
export async function measure(
  target: MeasureTarget,
  path: string,
  token: string | undefined,
  settings: MeasureLoad,
): Promise<Sample> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const options = { url: `${target.url}${path}`, connections: settings.connections, headers };
  await autocannon({ ...options, duration: WARMUP_SECONDS });
  const cpuBefore = target.pid === undefined ? undefined : cpuSeconds(target.pid);
  const result = await autocannon({ ...options, duration: settings.durationSeconds });
  const cpuUsed =
    target.pid === undefined || cpuBefore === undefined ? undefined : cpuSeconds(target.pid) - cpuBefore;
  return {
    requestsPerSecond: result.requests.average,
    cpuUsPerRequest:
      cpuUsed === undefined || result.requests.total === 0
        ? undefined
        : (cpuUsed * 1e6) / result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, stats]) => [code, stats.count]),
    ),
  };
}
