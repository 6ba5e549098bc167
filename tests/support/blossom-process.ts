import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

/** A free TCP port on loopback (bound then released). */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface BlossomProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `blossom <args>` as its own OS process, exactly as `npm start` does (TypeScript sources
 * through tsx), with the given environment on top of this one's. `nodeArgs` go before the entry
 * (e.g. `--cpu-prof`, which NODE_OPTIONS refuses).
 */
export function spawnBlossom(
  args: string[],
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): BlossomProcess {
  const child = spawn(
    process.execPath,
    [...nodeArgs, "--conditions=source", "--import", "tsx", "apps/blossom/src/main.ts", ...args],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_FORMAT: "json", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once("exit", (code, signal) => done({ code, signal }));
  });
  return { child, output: () => output, exited };
}

/** Waits until the process printed its ready table; fails with its output if it exits first. */
export async function waitForReady(process_: BlossomProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void process_.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (process_.output().includes("Blossom is ready")) return;
    if (exited) throw new Error(`blossom exited before it was ready:\n${process_.output()}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  process_.child.kill("SIGKILL");
  throw new Error(`blossom was not ready within ${timeoutMs} ms:\n${process_.output()}`);
}

/**
 * The users service's login and sign-up budgets, raised far above what a test or a benchmark
 * spends: every client of a test shares 127.0.0.1, so the per-address budgets meant for abuse
 * (5 sign-ups, 30 failed logins per address) would refuse ordinary test sign-ups. Suites that test
 * the limits set their own.
 */
export const GENEROUS_USERS_LIMITS = {
  USERS_LOGIN_MAX_FAILURES: "100000",
  USERS_LOGIN_ACCOUNT_MAX_FAILURES: "10000",
  USERS_LOGIN_ADDRESS_MAX_FAILURES: "100000",
  USERS_SIGNUP_MAX_PER_ADDRESS: "100000",
} as const;

/**
 * Variables for a platform under test: the gateway on `gatewayPort`, every service on a free
 * port, quiet logs, and rate limits out of the way (every test client shares 127.0.0.1, so the
 * per-IP login budget meant for brute force would throttle ordinary test sign-ins), the users
 * service's own among them.
 */
export function testEnv(gatewayPort: number): Record<string, string> {
  return {
    GATEWAY_RATE_LIMIT_PER_MINUTE: "100000",
    GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE: "100000",
    ...GENEROUS_USERS_LIMITS,

    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_METRICS_PORT: "0",
    USERS_PORT: "0",
    INVENTORY_PORT: "0",
    ORDERS_PORT: "0",
    PAYMENTS_PORT: "0",
    NOTIFICATIONS_PORT: "0",
    LOG_LEVEL: "warn",
  };
}

/** Kills (SIGKILL) whatever a test left running: call from afterEach. */
export async function killAll(processes: BlossomProcess[]): Promise<void> {
  for (const process_ of processes.splice(0)) {
    if (process_.child.exitCode === null && process_.child.signalCode === null) {
      process_.child.kill("SIGKILL");
      await process_.exited;
    }
  }
}

/** Resolves with how the process died, or undefined if it is still alive after `timeoutMs`. */
export function deathOf(process_: BlossomProcess, timeoutMs = 15_000) {
  return Promise.race([
    process_.exited,
    new Promise<undefined>((done) => setTimeout(() => done(undefined), timeoutMs)),
  ]);
}

/** One instance of the ready table `blossom cluster` prints. */
export interface ClusterRow {
  instance: string;
  service: string;
  pid: number;
  url: string;
}

/** The instances of `blossom cluster`'s ready table in its output (empty before it is ready). */
export function readClusterTable(output: string): ClusterRow[] {
  const start = output.indexOf("Blossom cluster is ready");
  if (start < 0) return [];
  return [...output.slice(start).matchAll(/^ {2}((\w+)#\d+)\s+(\d+)\s+(http:\/\/\S+)/gm)].map((match) => ({
    instance: match[1] ?? "",
    service: match[2] ?? "",
    pid: Number(match[3]),
    url: match[4] ?? "",
  }));
}
