import { PGlite, type parse } from "@electric-sql/pglite";
import { installReplyParser } from "./reply-parser.js";

/** A message PostgreSQL sent (PGlite's protocol parser's type; not exported by name). */
export type BackendMessage = Parameters<typeof parse.parseResults>[0][number];

/**
 * PGlite (PostgreSQL compiled to WebAssembly) in this process, driven with raw PostgreSQL
 * protocol bytes: requests are serialised by the caller (pglite-cluster.ts), and the replies
 * come back as the messages PGlite parsed them into.
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
    // PGlite parses every reply; ours does it in a fraction of the time (reply-parser.ts).
    installReplyParser();
    const pglite = await PGlite.create({
      dataDir: options.dataDir,
      startParams: [...PGlite.defaultStartParams, ...options.startParams],
    });
    return new PgliteEngine(pglite);
  }

  /**
   * Sends protocol messages; resolves with every message of PostgreSQL's reply, an error among
   * them (a `DatabaseError`) included, never thrown. Why not the raw bytes: PGlite parses every
   * reply as PostgreSQL writes it, whichever method is called, and parsing the bytes a second
   * time was a tenth of the process's CPU under checkout load.
   */
  async exec(request: Uint8Array): Promise<BackendMessage[]> {
    // No file-system sync per statement: PGlite's Node file system writes through already.
    const { messages } = await this.#pglite.execProtocol(request, { syncToFs: false, throwOnError: false });
    return messages;
  }

  /** Closes PostgreSQL (a clean shutdown: checkpoint). */
  close(): Promise<void> {
    return this.#pglite.close();
  }
}
