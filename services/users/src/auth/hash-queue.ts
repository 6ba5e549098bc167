import { availableParallelism } from "node:os";

export interface HashQueueOptions {
  /** Hashes computed at once: libuv's thread pool size, at most the CPUs (`hashConcurrency`). */
  concurrency: number;
  /** Hashes that may wait for a free slot, beyond those running. */
  maxWaiting: number;
  /**
   * The longest an admitted hash may expect to wait and run: past it a new one is refused even
   * with room in the queue (the estimate is the recent hash time times the queue ahead).
   */
  budgetMs: number;
  /** Tests only: the clock. */
  now?: () => number;
}

/** The admission of one hash: run it once, or release it (idempotent) when the request stops first. */
export interface HashPermit {
  /** Waits for a free slot, then runs `work` in it; the permit is released when it settles. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Gives the admission back without running (a limit refused the request, say). */
  release(): void;
}

/** Hashes computed at once on this machine: libuv's pool runs scrypt, and more than the CPUs only queues in it. */
export function hashConcurrency(threadPoolSize: number, cpus: number = availableParallelism()): number {
  return Math.max(1, Math.min(threadPoolSize, cpus));
}

/**
 * Admission control for password hashing (scrypt, 32 MiB and ~100 ms of a CPU each): a bounded
 * queue in front of a fixed number of slots. `admit()` answers at once: a permit, or undefined
 * when the queue is full or the wait it would face exceeds the budget — the request is then
 * refused (503 with `Retry-After`) before it changed anything. Admitted hashes run in arrival
 * order, `concurrency` at a time, so a burst costs a bounded wait instead of every request timing
 * out behind libuv's pool (where the gateway gave up on them after they had acted).
 */
export class HashQueue {
  readonly #options: HashQueueOptions;
  readonly #now: () => number;
  /** Permits admitted and not yet released (running or waiting). */
  #outstanding = 0;
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  /** Recent hash time (exponentially weighted), unknown until the first one. */
  #averageMs: number | undefined;

  constructor(options: HashQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
      throw new RangeError(`a hash queue needs at least one slot, got ${options.concurrency}`);
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Hashes admitted and not yet finished. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /**
   * A permit, or undefined when the request must be shed (see `retryAfterSeconds`). `leftMs` is
   * what is left of the request's own budget (`x-request-timeout`), when shorter than the queue's:
   * a hash that would end after the caller stopped waiting is refused now, not done for nobody.
   */
  admit(leftMs?: number): HashPermit | undefined {
    const { concurrency, maxWaiting } = this.#options;
    const budgetMs = leftMs === undefined ? this.#options.budgetMs : Math.min(leftMs, this.#options.budgetMs);
    if (this.#outstanding >= concurrency + maxWaiting) return undefined;
    if (this.#expectedMs(this.#outstanding + 1) > budgetMs) return undefined;
    this.#outstanding++;
    let released = false;
    let started = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#outstanding--;
    };
    return {
      run: async <T>(work: () => Promise<T>): Promise<T> => {
        if (started || released) throw new Error("a hash permit runs once, before it is released");
        started = true;
        try {
          await this.#slot();
          try {
            const startedAt = this.#now();
            const result = await work();
            this.#record(this.#now() - startedAt);
            return result;
          } finally {
            this.#free();
          }
        } finally {
          release();
        }
      },
      release,
    };
  }

  /** When the hashes admitted now will have run, in whole seconds (at least 1): the `Retry-After`. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#expectedMs(this.#outstanding) / 1000));
  }

  /** How long until the `count`-th hash in line has run, from the recent hash time. */
  #expectedMs(count: number): number {
    if (this.#averageMs === undefined) return 0;
    return Math.ceil(count / this.#options.concurrency) * this.#averageMs;
  }

  #record(ms: number): void {
    this.#averageMs = this.#averageMs === undefined ? ms : this.#averageMs * 0.8 + ms * 0.2;
  }

  #slot(): Promise<void> {
    if (this.#running < this.#options.concurrency) {
      this.#running++;
      return Promise.resolve();
    }
    // The freed slot passes straight to the next in line (`#free`), so `#running` stays counted.
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #free(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}
