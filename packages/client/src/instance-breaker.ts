import { type CircuitBreakerPolicy, CircuitState, circuitBreaker, handleWhen } from "cockatiel";
import { CallerDiverseBreaker, failedCaller } from "./caller-diverse-breaker.js";

/** A breaker state as reported by `ServiceClient.stats()` and `breakerState()`. */
export type BreakerState = "closed" | "open" | "half-open";

export interface InstanceBreakerOptions {
  /** Consecutive counted failures that open the breaker. */
  consecutiveFailures: number;
  /** How long the breaker stays open before one trial call is let through. */
  halfOpenAfterMs: number;
  /** Distinct callers a run of failures must come from to open the breaker (see CallerDiverseBreaker). */
  distinctCallers: number;
  /** Which errors count as failures of the instance; the others pass through uncounted. */
  countsAsFailure: (error: Error) => boolean;
  /** Which counted errors no caller can cause (the instance refused or dropped the connection). */
  isTransportFailure: (error: Error) => boolean;
}

/**
 * The circuit breaker of one upstream instance: a cockatiel policy on a `CallerDiverseBreaker`
 * (consecutive failures, from more than one caller unless the connection itself failed) plus
 * the bookkeeping the balancer needs to eject the instance without calling it.
 *
 * cockatiel only leaves the open state when a call is executed after `halfOpenAfter`, so an
 * "open" policy may already be due for its trial call; `acceptsCalls` tells the two apart.
 * While a trial call is in flight (half-open), further calls are not accepted here so the
 * balancer sends them to another instance instead of queueing behind the probe.
 */
export class InstanceBreaker {
  readonly policy: CircuitBreakerPolicy;
  readonly #halfOpenAfterMs: number;
  #openedAt = 0;

  constructor(options: InstanceBreakerOptions) {
    this.#halfOpenAfterMs = options.halfOpenAfterMs;
    const breaker = new CallerDiverseBreaker({
      consecutiveFailures: options.consecutiveFailures,
      distinctCallers: options.distinctCallers,
      // cockatiel records the failure (`lastFailure`) just before it asks the breaker about it.
      isTransportFailure: () => {
        const last = this.policy.lastFailure;
        return last !== undefined && "error" in last && options.isTransportFailure(last.error);
      },
      callerOfFailure: () => {
        const last = this.policy.lastFailure;
        return last !== undefined && "error" in last ? failedCaller(last.error) : undefined;
      },
    });
    this.policy = circuitBreaker(handleWhen(options.countsAsFailure), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker,
    });
    this.policy.onBreak(() => {
      this.#openedAt = Date.now();
    });
  }

  get state(): BreakerState {
    switch (this.policy.state) {
      case CircuitState.Closed:
        return "closed";
      case CircuitState.HalfOpen:
        return "half-open";
      default:
        return "open";
    }
  }

  /** True when a call would run now: closed, or open long enough for its trial call. */
  acceptsCalls(now: number = Date.now()): boolean {
    const state = this.policy.state;
    if (state === CircuitState.Closed) return true;
    return state === CircuitState.Open && now - this.#openedAt >= this.#halfOpenAfterMs;
  }
}
