import { PGlite } from "@electric-sql/pglite";

/**
 * PGlite (PostgreSQL compiled to WebAssembly) in this process, driven with raw PostgreSQL
 * protocol bytes: requests are serialised and replies parsed by the caller (pglite-cluster.ts).
 *
 * Tried and measured: running it on a worker thread of its own, so the database's WebAssembly
 * (half the process's CPU under checkout load) could use the second core. The checkout got
 * slower (13.9-19.6 against 19.3-26.7 orders/s in process, alternating runs on a quiet
 * machine): statements run one at a time on PGlite's one connection, so every statement's
 * thread round trip added to the time each transaction holds it, and that time, not CPU, bounds
 * the throughput.
 */
export class PgliteEngine {
  readonly #pglite: PGlite;

  private constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  /** Starts PostgreSQL on the cluster at `dataDir`, with `startParams` added to PGlite's defaults. */
  static async start(options: { dataDir: string; startParams: readonly string[] }): Promise<PgliteEngine> {
    const pglite = await PGlite.create({
      dataDir: options.dataDir,
      startParams: [...PGlite.defaultStartParams, ...options.startParams],
    });
    return new PgliteEngine(pglite);
  }

  /** Sends protocol messages; resolves with PostgreSQL's reply (all its messages, raw). */
  async raw(request: Uint8Array): Promise<Uint8Array> {
    // No file-system sync per statement: PGlite's Node file system writes through already.
    // A copy: the reply may be a view on PostgreSQL's memory, reused by the next statement.
    return (await this.#pglite.execProtocolRaw(request, { syncToFs: false })).slice();
  }

  /** Closes PostgreSQL (a clean shutdown: checkpoint). */
  close(): Promise<void> {
    return this.#pglite.close();
  }
}
