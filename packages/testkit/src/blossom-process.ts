import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";

/**
 * The repository root (packages/testkit/src → ../../..). The kit never imports apps/ or
 * services/ (packages do not depend on services): it runs the `blossom` CLI by path.
 */
export const REPOSITORY_ROOT = resolve(import.meta.dirname, "../../..");

/** The CLI's TypeScript entry, relative to REPOSITORY_ROOT. */
export const BLOSSOM_ENTRY = "apps/blossom/src/main.ts";

/** The CLI as `npm run build` compiles it, relative to REPOSITORY_ROOT. */
export const BLOSSOM_BUILT_ENTRY = "apps/blossom/dist/main.js";

/**
 * What `spawnBlossom` runs: the TypeScript sources through tsx (tests: what is written is what
 * runs, with no build step in between), or the build, which is what `npm start` runs whenever it
 * is current (benchmarks: figures of what a user runs; the caller checks that it is current).
 */
export type BlossomEntry = "source" | "built";

/** A child process whose output (stdout and stderr, interleaved) is kept. */
export interface BlossomProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `node <args>` in the repository root with exactly `env` (not merged with this process's),
 * keeping its output: the spawner under `spawnBlossom`, and for baselines such as `node -e 0`.
 */
export function spawnNode(args: readonly string[], env: NodeJS.ProcessEnv = process.env): BlossomProcess {
  const child = spawn(process.execPath, [...args], {
    cwd: REPOSITORY_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
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

/**
 * Runs `blossom <args>` as its own OS process, from the sources through tsx or from the build
 * (`entry`), with the given environment on top of this one's. `nodeArgs` go before the entry
 * (e.g. `--cpu-prof`, which NODE_OPTIONS refuses).
 */
export function spawnBlossom(
  args: string[],
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
  entry: BlossomEntry = "source",
): BlossomProcess {
  const command =
    entry === "built" ? [BLOSSOM_BUILT_ENTRY] : ["--conditions=source", "--import", "tsx", BLOSSOM_ENTRY];
  return spawnNode([...nodeArgs, ...command, ...args], {
    ...process.env,
    LOG_FORMAT: "json",
    ...env,
  });
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

/** Whether a process with this pid exists (signal 0 only checks; EPERM: it exists, owned by another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
