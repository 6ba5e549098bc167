import type { ServiceContext } from "@blossom/host";
import { settledAmong } from "../store/orders-store.js";
import type { OrdersTables } from "../store/tables.js";

/**
 * Lets `GET /api/orders/:id` with `Prefer: wait=N` hold its answer while the order is pending,
 * instead of clients polling (each poll is a gateway hop, an orders request and two queries: at
 * a 10 ms poll interval, polling cost more than the checkout itself). Two ways to learn that an
 * order left pending:
 * - in this process: the handler that settled it calls `settled(id)` after its commit, at once;
 * - on another replica (or by the deadline sweeper, or a customer's cancel): while anyone waits
 *   here, one query every `intervalMs` looks for settled orders among every id waited on, one
 *   statement per tick however many clients wait.
 */
export class PendingOrderWatch {
  readonly #waiters = new Map<string, Set<() => void>>();
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The query in flight, if any: `close()` hands it back so that it can be awaited. */
  #checking: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly findSettled: (ids: string[]) => Promise<string[]>,
    private readonly onError: (error: unknown) => void,
    readonly intervalMs = 20,
    /** Beyond this many waiting requests a new one is answered at once (the client polls again). */
    readonly maxWaiters = 2_000,
  ) {}

  /** Requests waiting now. */
  get waiting(): number {
    return this.#count;
  }

  /**
   * Resolves when the order may have left pending (read it again), when `timeoutMs` passed, when
   * `signal` aborts or the watch closes. Returns undefined, without waiting, when the watch is
   * closed or full.
   */
  wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> | undefined {
    if (this.#closed || this.#count >= this.maxWaiters || signal?.aborted) return undefined;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        const waiters = this.#waiters.get(id);
        if (waiters?.delete(done)) {
          this.#count -= 1;
          if (waiters.size === 0) this.#waiters.delete(id);
        }
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      const waiters = this.#waiters.get(id) ?? new Set();
      waiters.add(done);
      this.#waiters.set(id, waiters);
      this.#count += 1;
      this.#schedule();
    });
  }

  /** The order left pending in this process (after the commit): its waiters answer now. */
  settled(id: string): void {
    for (const wake of [...(this.#waiters.get(id) ?? [])]) wake();
  }

  /**
   * Answers every waiting request at once (on shutdown: nothing may hold the server open) and
   * schedules no more queries; resolves when the query in flight, if any, is over (before the
   * database closes). Never rejects.
   */
  close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const id of [...this.#waiters.keys()]) this.settled(id);
    return (this.#checking ?? Promise.resolve()).catch(() => {});
  }

  #schedule(): void {
    if (this.#timer || this.#checking || this.#closed || this.#waiters.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#checking = this.#check().finally(() => {
        this.#checking = undefined;
        this.#schedule();
      });
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Never rejects. */
  async #check(): Promise<void> {
    try {
      const ids = [...this.#waiters.keys()];
      for (let start = 0; start < ids.length && !this.#closed; start += 500) {
        for (const id of await this.findSettled(ids.slice(start, start + 500))) this.settled(id);
      }
    } catch (error) {
      // The database is unreachable: the waiters time out and the clients ask again.
      this.onError(error);
    }
  }
}

const watches = new WeakMap<ServiceContext<OrdersTables>, PendingOrderWatch>();

/** The watch of one orders service instance, shared by its routes and its saga handlers. */
export function pendingOrderWatch(context: ServiceContext<OrdersTables>): PendingOrderWatch {
  let watch = watches.get(context);
  if (!watch) {
    watch = new PendingOrderWatch(
      (ids) => settledAmong(context.db, ids),
      (error) => context.logger.warn({ err: error }, "pending-order watch: query failed"),
    );
    watches.set(context, watch);
  }
  return watch;
}
