import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { type PlannedInstance, restartDelayMs } from "./cluster-plan.js";

/** A crash within this time of starting (or before ever being ready) counts towards giving up. */
const FAST_CRASH_MS = 15_000;
/** Fast crashes in a row after which an instance is left down. */
export const MAX_FAST_CRASHES = 5;

export type InstanceState = "starting" | "ready" | "restarting" | "stopping" | "stopped" | "failed";

export interface InstanceEvents {
  /** Each line the child writes, without its newline. */
  line(instance: SupervisedInstance, line: string, stream: "stdout" | "stderr"): void;
  /** The child died without being asked to; it is restarted after `delayMs` unless it gave up. */
  crashed(instance: SupervisedInstance, exit: ChildExit, delayMs: number | undefined): void;
  /** A new child was spawned after a crash. */
  restarted(instance: SupervisedInstance): void;
}

export interface ChildExit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One replica the cluster keeps running: `blossom start <service>` as a child process, restarted
 * with exponential backoff when it dies unasked, left down after `MAX_FAST_CRASHES` fast crashes
 * in a row (a crash loop only burns CPU and buries the first error in the log).
 *
 * The child gets its own process group: Ctrl-C in a terminal reaches only the supervisor, which
 * stops the children in dependency order instead of all at once.
 */
export class SupervisedInstance {
  readonly plan: PlannedInstance;
  state: InstanceState = "starting";
  /** Where it serves, once ready. */
  url = "";
  /** Restarts after crashes so far. */
  restarts = 0;
  #child: ChildProcess | undefined;
  #startedAt = 0;
  #fastCrashes = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #exited: Promise<ChildExit> = Promise.resolve({ pid: 0, code: 0, signal: null });
  readonly #command: readonly string[];
  readonly #env: Readonly<Record<string, string>>;
  readonly #events: InstanceEvents;

  constructor(
    plan: PlannedInstance,
    command: readonly string[],
    env: Readonly<Record<string, string>>,
    events: InstanceEvents,
  ) {
    this.plan = plan;
    this.#command = command;
    this.#env = env;
    this.#events = events;
  }

  get label(): string {
    return this.plan.label;
  }

  /** The current child's pid (0 between a crash and its restart). */
  get pid(): number {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? (this.#child.pid ?? 0) : 0;
  }

  start(): void {
    const [file = process.execPath, ...args] = this.#command;
    const child = spawn(file, args, {
      env: this.#env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.#child = child;
    this.#startedAt = Date.now();
    this.state = "starting";
    this.url = "";
    this.#pipe(child.stdout, "stdout");
    this.#pipe(child.stderr, "stderr");
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        const exit = { pid: child.pid ?? 0, code, signal };
        resolve(exit);
        this.#onExit(exit);
      });
      // A spawn failure (no such file) comes as "error" and no "exit".
      child.once("error", (error) => {
        this.#events.line(this, `could not start: ${error.message}`, "stderr");
        if (child.pid === undefined) {
          resolve({ pid: 0, code: 1, signal: null });
          this.#onExit({ pid: 0, code: 1, signal: null });
        }
      });
    });
  }

  markReady(url: string): void {
    this.state = "ready";
    this.url = url;
  }

  /**
   * SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. Resolves true if it exited by
   * itself (with code 0), false if it had to be killed or failed its stop.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    clearTimeout(this.#restartTimer);
    const wasRunning = this.pid !== 0;
    this.state = "stopping";
    if (!wasRunning) {
      this.state = "stopped";
      return true;
    }
    this.#child?.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const exit = await Promise.race([this.#exited, timedOut]);
    clearTimeout(timer);
    this.state = "stopped";
    if (exit === undefined) {
      this.kill();
      await this.#exited;
      return false;
    }
    return exit.code === 0;
  }

  /** SIGKILL now, synchronously (for the supervisor's own exit). */
  kill(): void {
    clearTimeout(this.#restartTimer);
    if (this.pid !== 0) this.#child?.kill("SIGKILL");
  }

  #onExit(exit: ChildExit): void {
    if (this.state === "stopping" || this.state === "stopped") return;
    const wasReady = this.state === "ready";
    const fast = !wasReady || Date.now() - this.#startedAt < FAST_CRASH_MS;
    this.#fastCrashes = fast ? this.#fastCrashes + 1 : 1;
    if (this.#fastCrashes > MAX_FAST_CRASHES) {
      this.state = "failed";
      this.#events.crashed(this, exit, undefined);
      return;
    }
    const delayMs = restartDelayMs(this.#fastCrashes);
    this.state = "restarting";
    this.#events.crashed(this, exit, delayMs);
    this.#restartTimer = setTimeout(() => {
      if (this.state !== "restarting") return;
      this.restarts++;
      this.start();
      this.#events.restarted(this);
    }, delayMs);
  }

  #pipe(stream: Readable | null, name: "stdout" | "stderr"): void {
    if (stream === null) return;
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) => this.#events.line(this, line, name));
  }
}
