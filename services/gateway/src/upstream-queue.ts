/** How long the queue may stay non-empty before it counts as a standing queue (CoDel's interval). */
export const DEFAULT_QUEUE_INTERVAL_MS = 100;
/** The longest a request waits once the queue is standing (CoDel's target). */
export const DEFAULT_QUEUE_TARGET_MS = 30;

export interface UpstreamQueueOptions {
  /** See DEFAULT_QUEUE_INTERVAL_MS; also the longest any request waits (a burst's budget). */
  intervalMs?: number;
  /** See DEFAULT_QUEUE_TARGET_MS. */
  targetMs?: number;
  /** Tests only: the clock. */
  now?: () => number;
}

/** Why a queued request was refused: it would have waited longer than its budget. */
export class QueueTimeoutError extends Error {
  constructor(readonly waitedMs: number) {
    super(`waited ${Math.round(waitedMs)} ms for a connection to the upstream`);
  }
}

interface Waiter {
  enqueuedAt: number;
  budgetMs: number;
  resume: () => void;
  shed: (error: QueueTimeoutError) => void;
  timer: ReturnType<typeof setTimeout>;
  settled: boolean;
}

/**
 * The requests one upstream service is sent at most at once (`capacity`: its instances'
 * connections), and a FIFO queue for the rest that refuses a request rather than let it wait
 * long. The rule is CoDel as Facebook applies it to server queues ("Fail at Scale", 2015): a
 * queue that empties now and then absorbs a burst, so a request may wait up to one interval;
 * a queue that has not been empty for a whole interval is a standing queue, the sign of
 * arrivals faster than the upstream serves, and a request that joins it may wait only the short
 * target. Past its budget it is refused, and since it was never sent, refusing it (503) is the
 * truth: nothing was done.
 *
 * Why here and not a bare limit on requests in flight: under overload the wait was in the
 * upstream's connection pool (undici queues past its connections), where nothing measured it:
 * at twice the catalog's saturation rate 190 reads were in flight at the gateway for 32
 * connections, and each waited 5-10x its saturation latency. A limit set high enough for a burst
 * is too high to keep that wait short; the queue's age tells the two apart.
 */
export class UpstreamQueue {
  readonly #intervalMs: number;
  readonly #targetMs: number;
  readonly #now: () => number;
  #running = 0;
  /** Waiters in arrival order from `#head` on; settled ones are skipped (lazy removal). */
  #waiters: Waiter[] = [];
  #head = 0;
  #waiting = 0;
  /** When the queue last went from empty to non-empty; undefined while it is empty. */
  #nonEmptySince: number | undefined;
  /** When a request was last refused: a waiter past its budget, or a new one at the door. */
  #lastShedAt = Number.NEGATIVE_INFINITY;
  /** Places given back since `#windowStart`, and the rate of the last whole window (per ms). */
  #released = 0;
  #windowStart: number;
  #drainPerMs = 0;

  constructor(options: UpstreamQueueOptions = {}) {
    this.#intervalMs = options.intervalMs ?? DEFAULT_QUEUE_INTERVAL_MS;
    this.#targetMs = options.targetMs ?? DEFAULT_QUEUE_TARGET_MS;
    this.#now = options.now ?? (() => performance.now());
    if (!(this.#targetMs > 0 && this.#intervalMs >= this.#targetMs))
      throw new RangeError(
        `a queue needs 0 < target <= interval, got ${this.#targetMs} and ${this.#intervalMs}`,
      );
    this.#windowStart = this.#now();
  }

  /** Requests sent and not yet settled. */
  get running(): number {
    return this.#running;
  }

  /** Requests waiting for one of the running ones to settle. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Whether the queue is standing now: the upstream has been slower than arrivals (#standing). */
  standing(): boolean {
    return this.#standing(this.#now());
  }

  /**
   * Takes a place among the `capacity` running requests: at once (undefined) when one is free and
   * nobody waits, else a promise that resolves when the place is given, or rejects with
   * QueueTimeoutError once the request has waited its budget. Call `release` when it settles.
   */
  acquire(capacity: number): Promise<void> | undefined {
    if (this.#waiting === 0 && this.#running < capacity) {
      this.#running++;
      return undefined;
    }
    const now = this.#now();
    if (this.#nonEmptySince === undefined) {
      this.#nonEmptySince = now;
      // The drain rate that matters is the queue's while it has waiters: a window that began
      // while it was empty (idle, perhaps for minutes) would make it look slow to drain.
      this.#released = 0;
      this.#windowStart = now;
    }
    const budgetMs = this.#standing(now) ? this.#targetMs : this.#intervalMs;
    return new Promise<void>((resume, shed) => {
      const waiter: Waiter = {
        enqueuedAt: now,
        budgetMs,
        resume,
        shed,
        settled: false,
        timer: setTimeout(() => this.#expire(waiter), budgetMs),
      };
      this.#waiters.push(waiter);
      this.#waiting++;
    });
  }

  /** Gives a running request's place back; the oldest waiter still within its budget takes it. */
  release(capacity: number): void {
    this.#running--;
    this.#released++;
    this.#rollWindow(this.#now());
    this.#admit(capacity);
  }

  /**
   * Whether a request arriving now would only be refused after its wait: the queue is standing
   * and, at the rate places were given back over the last interval, the requests already
   * waiting take longer than the target to be sent. The gateway then refuses new requests at
   * the door, before any stage spends work on them (door-shed.ts): on one busy event loop a
   * refusal after the whole pipeline cost a third of a served request, and refusing half the
   * requests that way took the capacity the other half needed.
   */
  overloaded(): boolean {
    if (this.#waiting === 0) return false;
    const now = this.#now();
    if (!this.#standing(now)) return false;
    this.#rollWindow(now);
    // Half the target: the requests let in are still on their way through the stages, and join
    // the queue after this decision (measured: at the whole target, four times as many waiters
    // were refused after their wait, at full cost).
    if (this.#waiting < (this.#drainPerMs * this.#targetMs) / 2) return false;
    // A refusal at the door is a refusal: the queue stays standing for an interval after it, as
    // after one in the queue. Without this, the door's refusals kept the queue short enough to
    // empty now and then, each emptying let the next interval's arrivals in at the burst budget,
    // and the queue swung between empty and over a hundred waiters (measured at 2x the catalog's
    // saturation rate: p99 of the reads served 3.7-6.5x saturation's, 2.1-3.0x with this).
    this.#lastShedAt = now;
    return true;
  }

  /** Ends the drain-rate window once it has lasted an interval: its rate becomes the measured one. */
  #rollWindow(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed < this.#intervalMs) return;
    this.#drainPerMs = this.#released / elapsed;
    this.#released = 0;
    this.#windowStart = now;
  }

  /**
   * A standing queue: not empty for a whole interval, or one that refused a request (a waiter, or
   * a new one at the door) within the last interval. The second matters under sustained overload: refusals empty the queue now and
   * then, and an empty queue taken for a healthy one let a whole interval's worth of arrivals in
   * at the longer budget, most of them only to be refused later, at full cost.
   */
  #standing(now: number): boolean {
    if (now - this.#lastShedAt < this.#intervalMs) return true;
    return this.#nonEmptySince !== undefined && now - this.#nonEmptySince >= this.#intervalMs;
  }

  #admit(capacity: number): void {
    while (this.#running < capacity && this.#waiting > 0) {
      const waiter = this.#take();
      if (waiter === undefined) break;
      clearTimeout(waiter.timer);
      // A timer late behind a busy event loop is not a reason to send a request past its budget.
      const now = this.#now();
      if (now - waiter.enqueuedAt > waiter.budgetMs) this.#refuse(waiter, now);
      else {
        this.#running++;
        waiter.resume();
      }
    }
  }

  #expire(waiter: Waiter): void {
    if (waiter.settled) return;
    waiter.settled = true;
    this.#waiting--;
    if (this.#waiting === 0) this.#reset();
    this.#refuse(waiter, this.#now());
  }

  /** Refuses a waiter that waited past its budget; the queue counts as standing for an interval. */
  #refuse(waiter: Waiter, now: number): void {
    this.#lastShedAt = now;
    waiter.shed(new QueueTimeoutError(now - waiter.enqueuedAt));
  }

  /** The oldest unsettled waiter, marked settled and counted out. */
  #take(): Waiter | undefined {
    while (this.#head < this.#waiters.length) {
      const waiter = this.#waiters[this.#head++] as Waiter;
      // A queue that stays long non-empty would otherwise keep every settled waiter.
      if (this.#head >= 1024 && this.#head * 2 >= this.#waiters.length) {
        this.#waiters = this.#waiters.slice(this.#head);
        this.#head = 0;
      }
      if (waiter.settled) continue;
      waiter.settled = true;
      this.#waiting--;
      if (this.#waiting === 0) this.#reset();
      return waiter;
    }
    return undefined;
  }

  /** The queue is empty: forget the settled waiters and the standing queue's age. */
  #reset(): void {
    this.#waiters = [];
    this.#head = 0;
    this.#nonEmptySince = undefined;
  }
}
