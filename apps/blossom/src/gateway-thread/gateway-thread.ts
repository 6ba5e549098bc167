import { Worker } from "node:worker_threads";
import type { Logger } from "@blossom/runtime";
import type { SpanStore, Tracing } from "@blossom/telemetry";
import type { FromGatewayThread, GatewayWorkerData, ToGatewayThread } from "./messages.js";

/** How long a stopped gateway thread may take to end by itself before it is terminated. */
const EXIT_GRACE_MS = 2_000;

/**
 * The thread's young generation, in MiB (V8's default lets it grow to 32 MiB, as the services'
 * thread's does). The gateway's garbage is per request and short-lived, so small semi-spaces cost
 * it a little more scavenging on a thread with time to spare; measured after ready, the process's
 * RSS was 366-392 MiB with the default and 338-352 MiB with 6 (against 273-323 MiB with the
 * gateway on the services' thread).
 */
const YOUNG_GENERATION_MB = 6;

interface Waiting {
  resolve: (message: FromGatewayThread) => void;
  reject: (error: Error) => void;
}

/**
 * The gateway on a worker thread of its own, for a process that also runs services (the embedded
 * default, `npm start`). Why: on one event loop the gateway took about an eighth of the thread
 * the five services and their databases need (checkouts measured 63 orders/s with the gateway on
 * the services' event loop, 69-71 with it in a process of its own), while the machine's second
 * core sat mostly idle. The thread runs exactly what `blossom start gateway` runs in a cluster,
 * in front of the services' URLs over loopback HTTP, with its own clients, token cache, logger
 * and metrics; only its spans cross over, to the one span buffer the operations console reads.
 *
 * Started early (the thread loads its modules while the services start), it listens once told
 * the services' URLs (`start`).
 */
export class GatewayThread {
  readonly #worker: Worker;
  readonly #logger: Logger;
  readonly #spanStore: SpanStore | undefined;
  #waiting: Waiting | undefined;
  #stopping = false;
  #ended = false;
  readonly #exited: Promise<void>;

  constructor(settings: Omit<GatewayWorkerData, "tracing">, tracing: Tracing | undefined, logger: Logger) {
    this.#logger = logger;
    this.#spanStore = tracing?.enabled ? tracing.spanStore : undefined;
    const data: GatewayWorkerData = {
      ...settings,
      ...(tracing?.enabled ? { tracing: { forward: this.#spanStore !== undefined } } : {}),
    };
    const [entry, options] = entryPoint();
    this.#worker = new Worker(entry, {
      ...options,
      workerData: data,
      name: "gateway",
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    this.#worker.on("message", (message: FromGatewayThread) => this.#receive(message));
    this.#worker.on("error", (error) => this.#fail(error));
    this.#exited = new Promise((resolve) => {
      this.#worker.once("exit", (code) => {
        this.#ended = true;
        if (!this.#stopping) this.#fail(new Error(`the gateway's thread exited (code ${code})`));
        resolve();
      });
    });
  }

  /**
   * Listens in front of these services (name to the URL each listens on, for the services of this
   * process without a configured URL); resolves with the gateway's URLs.
   */
  async start(listening: Record<string, string>): Promise<{ url: string; metricsUrl: string | undefined }> {
    const answer = await this.#request({ type: "start", listening });
    if (answer.type !== "listening") throw new Error(`the gateway's thread answered ${answer.type}`);
    return { url: answer.url, metricsUrl: answer.metricsUrl };
  }

  /** Stops the gateway gracefully (stop accepting, drain, close), then ends the thread. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#ended) return;
    try {
      await this.#request({ type: "stop" });
    } finally {
      const timer = setTimeout(() => void this.#worker.terminate(), EXIT_GRACE_MS);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  /** Ends the thread at once (start-up failed elsewhere). */
  async terminate(): Promise<void> {
    this.#stopping = true;
    await this.#worker.terminate();
  }

  #request(message: ToGatewayThread): Promise<FromGatewayThread> {
    if (this.#ended) return Promise.reject(new Error("the gateway's thread has ended"));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#worker.postMessage(message);
    });
  }

  #receive(message: FromGatewayThread): void {
    switch (message.type) {
      case "spans":
        for (const span of message.spans) this.#spanStore?.add(span);
        return;
      case "traces": {
        const value =
          message.op === "list"
            ? this.#spanStore?.list(message.options)
            : this.#spanStore?.trace(message.traceId);
        this.#worker.postMessage({ type: "traces-answer", id: message.id, value } satisfies ToGatewayThread);
        return;
      }
      case "failed":
        this.#settle((waiting) =>
          waiting.reject(new Error(`the gateway's thread failed: ${message.message}`)),
        );
        return;
      default:
        this.#settle((waiting) => waiting.resolve(message));
    }
  }

  #settle(how: (waiting: Waiting) => void): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) how(waiting);
  }

  /**
   * The thread died: a request waiting for it fails; while the platform runs, the process ends,
   * as it would if the gateway had thrown on the services' event loop (a supervisor restarts it).
   */
  #fail(error: Error): void {
    if (this.#waiting) {
      this.#settle((waiting) => waiting.reject(error));
      return;
    }
    if (this.#stopping) return;
    this.#logger.fatal({ err: error }, "the gateway's thread failed: stopping the process");
    process.exitCode = 1;
    process.kill(process.pid, "SIGTERM");
  }
}

/**
 * The thread's entry point and Node options: the built JavaScript when this module is built,
 * else the sources, through tsx (registered by source-entry.mjs: Node's --import does not reach
 * a worker's entry point) and the `source` export condition, keeping any profiling flags.
 */
function entryPoint(): [URL, { execArgv?: string[] }] {
  if (!import.meta.url.endsWith(".ts")) return [new URL("./gateway-worker.js", import.meta.url), {}];
  const profiling = process.execArgv.filter((arg) => /^--(cpu|heap)-prof/.test(arg));
  return [
    new URL("./source-entry.mjs", import.meta.url),
    { execArgv: ["--conditions=source", ...profiling] },
  ];
}
