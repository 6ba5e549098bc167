import { Worker } from "node:worker_threads";

/**
 * PGlite (PostgreSQL compiled to WebAssembly) on a worker thread of its own, driven with raw
 * PostgreSQL protocol bytes.
 *
 * Why a thread: on the embedded default the database's WebAssembly was half of the process's
 * CPU under load, all of it on the one event loop that also serves HTTP. On its own thread it
 * runs on the second core, and its start-up (compiling 10 MB of WebAssembly, starting
 * PostgreSQL) overlaps the main thread's module loading. The thread only moves bytes: requests
 * are serialised and replies parsed on the caller's side (pglite-cluster.ts), so errors are
 * the caller's own objects and no function crosses threads.
 *
 * The thread's code is a string evaluated by the Worker: a separate module file would need
 * TypeScript support in the thread when running from sources (tsx, Vitest), and the build does
 * not copy plain JavaScript files. It loads PGlite from the absolute URL resolved here.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
let pglite;
const opening = import(workerData.pgliteUrl).then(async ({ PGlite }) => {
  pglite = await PGlite.create({
    dataDir: workerData.dataDir,
    startParams: [...PGlite.defaultStartParams, ...workerData.startParams],
  });
});
parentPort.on("message", async ({ id, op, bytes }) => {
  try {
    await opening;
    if (op === "raw") {
      // A copy: the reply may be a view on PostgreSQL's memory, which must not be transferred.
      const reply = (await pglite.execProtocolRaw(bytes, { syncToFs: false })).slice();
      parentPort.postMessage({ id, ok: true, bytes: reply }, [reply.buffer]);
    } else if (op === "close") {
      await pglite.close();
      parentPort.postMessage({ id, ok: true });
    } else {
      throw new Error("unknown operation " + op);
    }
  } catch (error) {
    parentPort.postMessage({ id, ok: false, message: String(error && error.message || error), stack: error && error.stack });
  }
});
`;

interface Reply {
  id: number;
  ok: boolean;
  bytes?: Uint8Array;
  message?: string;
  stack?: string;
}

export interface PgliteThreadOptions {
  /** The cluster's directory. */
  dataDir: string;
  /** PostgreSQL settings added to PGlite's defaults, e.g. `["-c", "shared_buffers=32MB"]`. */
  startParams: readonly string[];
}

export class PgliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(reply: Reply): void; reject(error: Error): void }>();
  #nextId = 0;
  #failure: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    // Idle, the thread must not keep the process alive (a CLI command ends when its work does);
    // it is referenced only while a request is pending.
    worker.unref();
    worker.on("message", (reply: Reply) => this.#settle(reply));
    worker.on("error", (error) => this.#fail(error));
    worker.on("exit", (code) => this.#fail(new Error(`the PGlite thread exited (code ${code})`)));
  }

  /** Starts the thread and PostgreSQL in it; rejects if PGlite cannot start there. */
  static async start(options: PgliteThreadOptions): Promise<PgliteThread> {
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        pgliteUrl: import.meta.resolve("@electric-sql/pglite"),
        dataDir: options.dataDir,
        startParams: [...options.startParams],
      },
      // Its own console output would interleave with the process's JSON logs: none is expected.
      stdout: false,
      stderr: false,
    });
    const thread = new PgliteThread(worker);
    // A trivial request waits for PostgreSQL to be up, and surfaces a start-up failure here.
    await thread.raw(SYNC_MESSAGE);
    return thread;
  }

  /** Sends protocol messages; resolves with PostgreSQL's reply (all its messages, raw). */
  async raw(request: Uint8Array): Promise<Uint8Array> {
    const reply = await this.#request("raw", request);
    if (!reply.bytes) throw new Error("the PGlite thread answered without a reply");
    return reply.bytes;
  }

  /** Closes PostgreSQL (a clean shutdown: checkpoint) and ends the thread. */
  async close(): Promise<void> {
    try {
      await this.#request("close");
    } finally {
      await this.#worker.terminate();
    }
  }

  #request(op: "raw" | "close", bytes?: Uint8Array): Promise<Reply> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, bytes });
    });
  }

  #settle(reply: Reply): void {
    const waiter = this.#pending.get(reply.id);
    if (!waiter) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (reply.ok) waiter.resolve(reply);
    else {
      const error = new Error(reply.message ?? "PGlite failed");
      if (reply.stack) error.stack = reply.stack;
      waiter.reject(error);
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#pending.values()) waiter.reject(this.#failure);
    this.#pending.clear();
  }
}

/** A lone Sync message ('S', length 4): PostgreSQL answers ReadyForQuery. */
const SYNC_MESSAGE = new Uint8Array([0x53, 0, 0, 0, 4]);
