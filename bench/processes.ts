/**
 * The benchmarks' processes: `blossom start` (from the build, or the sources: blossom-build.ts), stopping a child, and what /proc says
 * about a process tree (its pids, its CPU time).
 */
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type BlossomProcess,
  clearedPlatformEnv,
  freePort,
  GENEROUS_USERS_LIMITS,
  spawnBlossom,
  waitForReady,
} from "@blossom/testkit";
import { SERVICE_NAMES } from "../apps/blossom/src/topology.js";
import { benchEntry } from "./blossom-build.js";

const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;
const CLOCK_TICKS_PER_SECOND = 100;

/** The environment of one `blossom start [name]` process: embedded adapters, quiet logs. */
function blossomEnv(dataDir: string, extra: Record<string, string>): Record<string, string> {
  return {
    ...clearedPlatformEnv(),
    BLOSSOM_DATA_DIR: dataDir,
    // Gateways of consecutive scenarios may overlap while one stops: no fixed metrics port.
    GATEWAY_METRICS_PORT: "0",
    // Access logs off, as nginx's: the figures are about forwarding, not log shipping.
    LOG_LEVEL: "warn",
    LOG_FORMAT: "json",
    ...extra,
  };
}

/**
 * `blossom start <name>` as `npm start` runs it, from the build (or the sources: `benchEntry`),
 * `name` undefined: the whole platform in one process; `nodeArgs` go before the entry
 * (`--cpu-prof` is refused in NODE_OPTIONS).
 */
export async function startBlossom(
  name: string | undefined,
  dataDir: string,
  extra: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<BlossomProcess> {
  const proc = spawnBlossom(
    ["start", ...(name ? [name] : [])],
    blossomEnv(join(dataDir, name ?? "platform"), extra),
    nodeArgs,
    benchEntry(),
  );
  await waitForReady(proc, READY_TIMEOUT_MS);
  return proc;
}

/**
 * Far above what one user can send in a minute here: the limiter counts every request, refuses
 * none. The users service's sign-up and login budgets likewise (every customer is on 127.0.0.1).
 */
export const UNLIMITED_RATES: Record<string, string> = {
  GATEWAY_RATE_LIMIT_PER_MINUTE: "1000000000",
  GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE: "100000",
  ...GENEROUS_USERS_LIMITS,
};

/**
 * The whole platform as one `blossom start` process in `dataDir`: the gateway on a free port (its
 * URL resolved with the process), every service on a port of the OS's choosing, `extra` on top.
 */
export async function startEmbeddedPlatform(
  dataDir: string,
  extra: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<{ proc: BlossomProcess; gateway: string }> {
  const port = await freePort();
  const ports = Object.fromEntries(SERVICE_NAMES.map((name) => [`${name.toUpperCase()}_PORT`, "0"]));
  const proc = await startBlossom(
    undefined,
    dataDir,
    { ...ports, ...extra, GATEWAY_PORT: String(port) },
    nodeArgs,
  );
  return { proc, gateway: `http://127.0.0.1:${port}` };
}

/** Node arguments that make a process write its CPU profile to `dir` (none when `dir` is unset). */
export function cpuProfileArgs(dir: string | undefined): string[] {
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(dir)}`] : [];
}

/** SIGTERM, then SIGKILL if it has not exited within 15 s; resolves once it exited. */
export async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** `pid` and its descendants (those still running). */
export function processTree(pid: number): number[] {
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
export function processesNamed(name: string): number[] {
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

/** CPU seconds (user + system) used so far by one process, 0 once it is gone. */
function ownCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields 14 and 15 (utime, stime) follow the command name, which is in parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) used so far by `pid` and its descendants (nginx's worker). */
/** VmRSS of a process and its descendants, in MiB (0 for one that is gone). */
export function treeRssMiB(pid: number): number {
  let kib = 0;
  for (const id of processTree(pid)) {
    try {
      const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${id}/status`, "utf8"));
      kib += Number(line?.[1] ?? 0);
    } catch {
      // Gone already.
    }
  }
  return kib / 1024;
}

export function cpuSeconds(pid: number): number {
  return processTree(pid).reduce((total, id) => total + ownCpuSeconds(id), 0);
}
