import { HttpProblem, SHED_OPERATION_HEADER } from "@blossom/runtime";

export interface CheckoutAdmissionOptions {
  /** Checkouts that may be pending (placed, not yet confirmed or cancelled) at once, platform-wide. */
  maxPending: number;
  /** Counts the pending checkouts in the orders database (every replica's). */
  countPending: () => Promise<number>;
  /** How long a count is trusted; checkouts admitted since are added to it. Default 100 ms. */
  refreshMs?: number;
  /** Tests only: the clock. */
  now?: () => number;
}

const DEFAULT_REFRESH_MS = 100;

/**
 * Admission control for checkouts, after Envoy's overload manager: the resource watched is the
 * saga's backlog (pending orders), and past its threshold new checkouts are refused at once with
 * 503 and `Retry-After`, before anything is read from inventory or written.
 *
 * Why pending orders: a checkout costs little to accept and a lot to settle (a reservation, a
 * payment, a confirmation, each through the bus). Offered faster than the saga settles them,
 * accepted orders only queue in the streams, and every one of them waits longer (Little's law:
 * wait = pending / rate), until they miss the saga deadline and are cancelled. Bounding the
 * backlog bounds the wait of the accepted ones and keeps the platform confirming at its
 * saturation rate; the excess is refused while refusing is still cheap and truthful.
 *
 * The count comes from the database (`status = 'pending'`, on a partial index), so it is the
 * platform's, not one replica's: at most every `refreshMs` (one query in flight at a time, in
 * the background: a refusal never waits for the database), plus the checkouts this replica is
 * placing or wrote since. Replicas admitting at once may overshoot the limit by what the others
 * admitted within one refresh.
 */
export class CheckoutAdmission {
  readonly #maxPending: number;
  readonly #countPending: () => Promise<number>;
  readonly #refreshMs: number;
  readonly #now: () => number;
  /** Pending orders in the database at the last count. */
  #counted = 0;
  #countedAt = Number.NEGATIVE_INFINITY;
  /** Checkouts admitted here and not yet written or given up (in no count yet). */
  #inFlight = 0;
  /** Orders written here since the running (or last) count started: perhaps not in it. */
  #writtenSince = 0;
  #counting: Promise<void> | undefined;

  constructor(options: CheckoutAdmissionOptions) {
    if (!Number.isInteger(options.maxPending) || options.maxPending < 1)
      throw new RangeError(`checkout admission needs a limit of at least 1, got ${options.maxPending}`);
    this.#maxPending = options.maxPending;
    this.#countPending = options.countPending;
    this.#refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Pending checkouts as last counted, plus those written or being placed here since. */
  get pending(): number {
    return this.#counted + this.#writtenSince + this.#inFlight;
  }

  /**
   * Admits one checkout, or throws the 503 problem (with `Retry-After`) that says nothing was
   * done. The admission holds a place in the backlog until `release` says whether the order was
   * written (it then counts as pending until a count sees it) or not (the place is given back).
   *
   * Waits for the database only for the very first count: later counts run in the background
   * while decisions use the last one, so a refusal never waits in the database's queue (under
   * overload the database is the queue), and a count that is slow to come back only makes
   * admission stricter. A failed background count is retried at the next admission; a failed
   * first count fails the request with the database's error.
   */
  async admit(): Promise<CheckoutTicket> {
    if (this.#now() - this.#countedAt >= this.#refreshMs) {
      if (this.#countedAt === Number.NEGATIVE_INFINITY) await this.#refresh();
      else void this.#refresh().catch(() => {});
    }
    if (this.pending >= this.#maxPending) throw checkoutsShed(this.#maxPending);
    this.#inFlight++;
    let released = false;
    return {
      release: (written: boolean) => {
        if (released) return;
        released = true;
        this.#inFlight--;
        if (written) this.#writtenSince++;
      },
    };
  }

  #refresh(): Promise<void> {
    this.#counting ??= (async () => {
      const startedAt = this.#now();
      // Written before the count started: the count sees them.
      const seen = this.#writtenSince;
      try {
        const counted = await this.#countPending();
        this.#counted = counted;
        this.#writtenSince -= seen;
        this.#countedAt = startedAt;
      } finally {
        this.#counting = undefined;
      }
    })();
    return this.#counting;
  }
}

/** One admitted checkout's place in the backlog. */
export interface CheckoutTicket {
  /** Once the request is done: whether it wrote the order. Idempotent. */
  release(written: boolean): void;
}

/** 503 `checkouts-shed`: the saga's backlog is full; nothing was read or written. */
export function checkoutsShed(maxPending: number): HttpProblem {
  return new HttpProblem({
    status: 503,
    slug: "checkouts-shed",
    title: "Too many checkouts in progress",
    detail: `${maxPending} checkouts are already being processed; nothing was done with this one. Retry after the delay in Retry-After (with the same Idempotency-Key or a new one: this one was not used).`,
    // The backlog holds for every checkout until the saga settles some: the gateway may refuse
    // checkouts at its door for a moment (SHED_OPERATION_HEADER).
    headers: { "retry-after": "1", [SHED_OPERATION_HEADER]: "1" },
  });
}
