import { CircuitState, type IBreaker } from "cockatiel";

/**
 * Who each failed attempt was made for, as far as a breaker is concerned: the gateway passes the
 * signed-in user or the client's address. `UpstreamInstance` marks an attempt's error with its
 * caller as the error leaves the attempt; the breaker reads it back when it counts that failure.
 * (Kept on the error, not in an AsyncLocalStorage around the attempt: a storage more costs every
 * promise of the process a little, and only failures need to know.)
 */
const failedCallers = new WeakMap<object, string>();

/** Remembers that `error` is the failure of an attempt made for `caller` (unset: no named caller). */
export function markFailedCaller(error: unknown, caller: string | undefined): void {
  if (caller !== undefined && typeof error === "object" && error !== null) failedCallers.set(error, caller);
}

/** The caller `markFailedCaller` recorded for `error`, or undefined for none. */
export function failedCaller(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? failedCallers.get(error) : undefined;
}

export interface CallerDiverseBreakerOptions {
  /** Consecutive counted failures that open the breaker. */
  consecutiveFailures: number;
  /** Distinct callers among those failures needed to open it (a transport failure counts for all). */
  distinctCallers: number;
  /** Whether the failure just counted is one no caller can cause (refused or reset connection). */
  isTransportFailure: () => boolean;
  /** Who the failure just counted was for (see `markFailedCaller`); undefined for no named caller. */
  callerOfFailure: () => string | undefined;
}

/**
 * cockatiel's consecutive-failure rule, made robust against one caller: a run of failures opens
 * the breaker only when they came from at least `distinctCallers` callers, or when one of them
 * was a transport failure. Why: a 500 or a timeout can be caused by one request's input (a
 * `limit=Infinity` that the database refused), and a breaker that any single client can open
 * takes the service away from everybody; a refused or reset connection says the instance
 * itself is gone, whoever asked. Calls made for no named caller (service to service) count as
 * a caller each, so for them this is the plain consecutive breaker.
 *
 * What counts as a failure at all is the policy's filter's business (`UpstreamInstance`): only
 * signs that the instance is down (refused or dropped connections, a 5xx other than a shed 503),
 * never signs that it is saturated (timeouts, a 503 with `Retry-After`), which pass through
 * uncounted and neither extend nor end a run. A run and not a rate over a window: any success
 * ends it, so one client with two identities (a token and its address) cannot outweigh the
 * answers everybody else gets (services/gateway/src/breaker-isolation.test.ts).
 */
export class CallerDiverseBreaker implements IBreaker {
  readonly #options: CallerDiverseBreakerOptions;
  #run = 0;
  #callers = new Set<string>();
  #transport = false;
  #anonymous = 0;

  constructor(options: CallerDiverseBreakerOptions) {
    this.#options = options;
  }

  /** cockatiel serialises this with the policy (`toJSON`); the run's length is what matters. */
  get state(): unknown {
    return { run: this.#run };
  }

  set state(value: unknown) {
    this.#reset();
    const run = (value as { run?: unknown } | null)?.run;
    if (typeof run === "number") this.#run = run;
  }

  success(state: CircuitState): void {
    if (state === CircuitState.HalfOpen || this.#run > 0) this.#reset();
  }

  failure(state: CircuitState): boolean {
    // A failed trial call re-opens at once, whoever made it.
    if (state === CircuitState.HalfOpen) return true;
    this.#run++;
    if (this.#options.isTransportFailure()) this.#transport = true;
    const caller = this.#options.callerOfFailure();
    if (caller === undefined) this.#anonymous++;
    else this.#callers.add(caller);
    if (this.#run < this.#options.consecutiveFailures) return false;
    const callers = this.#callers.size + this.#anonymous;
    // A breaker told to open on fewer failures than that cannot ask for more callers than failures.
    const needed = Math.min(this.#options.distinctCallers, this.#options.consecutiveFailures);
    if (!this.#transport && callers < needed) return false;
    this.#reset();
    return true;
  }

  #reset(): void {
    this.#run = 0;
    this.#callers = new Set();
    this.#transport = false;
    this.#anonymous = 0;
  }
}
