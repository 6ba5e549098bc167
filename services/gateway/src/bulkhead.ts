import { HttpProblem } from "@blossom/runtime";

/**
 * At most `maxInFlight` requests at a time per upstream service. One slow service can then hold
 * only its own share of the gateway's sockets and memory: an excess request is refused at once
 * with 503 and `Retry-After` instead of queueing behind the slow ones, and every other service's
 * routes keep their full capacity.
 */
export class Bulkhead {
  readonly #maxInFlight: number;
  readonly #inFlight = new Map<string, number>();

  constructor(maxInFlight: number) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new Error(`a bulkhead needs at least one slot, got ${maxInFlight}`);
    this.#maxInFlight = maxInFlight;
  }

  /** Requests in flight to a service now. */
  inFlight(service: string): number {
    return this.#inFlight.get(service) ?? 0;
  }

  /** Runs `call` in one of the service's slots, or throws a 503 problem when they are all taken. */
  async run<T>(service: string, call: () => Promise<T>): Promise<T> {
    const current = this.inFlight(service);
    if (current >= this.#maxInFlight) {
      const problem = HttpProblem.of(
        "unavailable",
        `The ${service} service has too many requests in flight; retry shortly.`,
        { upstream: service },
      );
      problem.headers["retry-after"] = "1";
      throw problem;
    }
    this.#inFlight.set(service, current + 1);
    try {
      return await call();
    } finally {
      const left = this.inFlight(service) - 1;
      if (left > 0) this.#inFlight.set(service, left);
      else this.#inFlight.delete(service);
    }
  }
}
