import { HttpProblem } from "@blossom/runtime";

/** Held requests (`Prefer: wait`) in flight per upstream service at most, by default. */
export const DEFAULT_MAX_HELD_PER_SERVICE = 1024;

/**
 * At most `maxInFlight` requests at a time per upstream service. One slow service can then hold
 * only its own share of the gateway's sockets and memory: an excess request is refused at once
 * with 503 and `Retry-After` instead of queueing behind the slow ones, and every other service's
 * routes keep their full capacity.
 *
 * Held requests (an answer the service may hold for seconds, `Prefer: wait`) have slots of their
 * own (`maxHeld`): they cost a waiter each, not work, and counted with the others, customers
 * following their orders would take the slots a new checkout needs.
 */
export class Bulkhead {
  readonly #maxInFlight: number;
  readonly #maxHeld: number;
  readonly #inFlight = new Map<string, number>();
  readonly #held = new Map<string, number>();

  constructor(maxInFlight: number, maxHeld = DEFAULT_MAX_HELD_PER_SERVICE) {
    for (const slots of [maxInFlight, maxHeld])
      if (!Number.isInteger(slots) || slots < 1)
        throw new Error(`a bulkhead needs at least one slot, got ${slots}`);
    this.#maxInFlight = maxInFlight;
    this.#maxHeld = maxHeld;
  }

  /** Requests in flight to a service now (held ones with `held`). */
  inFlight(service: string, held = false): number {
    return (held ? this.#held : this.#inFlight).get(service) ?? 0;
  }

  /**
   * Runs `call` in one of the service's slots (of the held ones with `held`), or throws a 503
   * problem when they are all taken.
   */
  async run<T>(service: string, call: () => Promise<T>, held = false): Promise<T> {
    const counts = held ? this.#held : this.#inFlight;
    const current = counts.get(service) ?? 0;
    if (current >= (held ? this.#maxHeld : this.#maxInFlight)) {
      const problem = HttpProblem.of(
        "unavailable",
        `The ${service} service has too many requests in flight; retry shortly.`,
        { upstream: service },
      );
      problem.headers["retry-after"] = "1";
      throw problem;
    }
    counts.set(service, current + 1);
    try {
      return await call();
    } finally {
      const left = (counts.get(service) ?? 1) - 1;
      if (left > 0) counts.set(service, left);
      else counts.delete(service);
    }
  }
}
