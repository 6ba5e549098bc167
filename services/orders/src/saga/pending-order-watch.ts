import type { ServiceContext } from "@blossom/host";
import { orderETag } from "../api/order-view.js";
import { progressAmong } from "../store/orders-store.js";
import type { OrdersTables } from "../store/tables.js";

/** Where a waited-on order is now, as the watch's look-up reports it. */
export interface OrderProgress {
  id: string;
  pending: boolean;
  /** Its `ETag` (status and checkout step). */
  tag: string;
}

interface Waiter {
  wake: () => void;
  /** The `ETag` the client has: wake as soon as the order's differs. Undefined: only once it settles. */
  seen: string | undefined;
}

/**
 * Lets `GET /api/orders/:id` with `Prefer: wait=N` hold its answer while the order is pending
 * (or, with `If-None-Match`, until it changes at all: a checkout step too),
 * instead of clients polling (each poll is a gateway hop, an orders request and two queries: at
 * a 10 ms poll interval, polling cost more than the checkout itself). Two ways to learn that an
 * order left pending:
 * - in this process: the handler that settled it calls `settled(id)` after its commit, at once;
 * - on another replica (or by the deadline sweeper, or a customer's cancel): while anyone waits
 *   here, one query every `intervalMs` looks for settled orders among every id waited on, one
 *   statement per tick however many clients wait.
 */
export class PendingOrderWatch {
  readonly #waiters = new Map<string, Set<Waiter>>();
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The query in flight, if any: `close()` hands it back so that it can be awaited. */
  #checking: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly lookUp: (ids: string[]) => Promise<OrderProgress[]>,
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
   * Resolves when the order may have left pending, or (given `seen`, the `ETag` the client has)
   * may have changed at all: read it again. Also when `timeoutMs` passed, when `signal` aborts or
   * the watch closes. Returns undefined, without waiting, when the watch is closed or full.
   */
  wait(id: string, timeoutMs: number, signal?: AbortSignal, seen?: string): Promise<void> | undefined {
    if (this.#closed || this.#count >= this.maxWaiters || signal?.aborted) return undefined;
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        wake: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", waiter.wake);
          const waiters = this.#waiters.get(id);
          if (waiters?.delete(waiter)) {
            this.#count -= 1;
            if (waiters.size === 0) this.#waiters.delete(id);
          }
          resolve();
        },
        seen,
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      signal?.addEventListener("abort", waiter.wake, { once: true });
      const waiters = this.#waiters.get(id) ?? new Set();
      waiters.add(waiter);
      this.#waiters.set(id, waiters);
      this.#count += 1;
      this.#schedule();
    });
  }

  /** The order left pending in this process (after the commit): its waiters answer now. */
  settled(id: string): void {
    for (const waiter of [...(this.#waiters.get(id) ?? [])]) waiter.wake();
  }

  /** A checkout step of the order committed in this process: those following each step answer now. */
  stepped(id: string): void {
    for (const waiter of [...(this.#waiters.get(id) ?? [])]) if (waiter.seen !== undefined) waiter.wake();
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
        for (const order of await this.lookUp(ids.slice(start, start + 500))) {
          for (const waiter of [...(this.#waiters.get(order.id) ?? [])]) {
            if (!order.pending || (waiter.seen !== undefined && waiter.seen !== order.tag)) waiter.wake();
          }
        }
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
      async (ids) =>
        (await progressAmong(context.db, ids)).map((row) => ({
          id: row.id,
          pending: row.status === "pending",
          tag: orderETag(row),
        })),
      (error) => context.logger.warn({ err: error }, "pending-order watch: query failed"),
    );
    watches.set(context, watch);
  }
  return watch;
}
