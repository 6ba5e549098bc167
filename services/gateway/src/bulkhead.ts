import { HttpProblem } from "@blossom/runtime";
import { QueueTimeoutError, UpstreamQueue, type UpstreamQueueOptions } from "./upstream-queue.js";

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
  readonly #capacityOf: ((service: string, standing: boolean) => number) | undefined;
  readonly #queueOptions: UpstreamQueueOptions;
  readonly #queues = new Map<string, UpstreamQueue>();
  readonly #onShed: ((service: string, stage: "queue" | "bulkhead") => void) | undefined;

  constructor(
    maxInFlight: number,
    maxHeld = DEFAULT_MAX_HELD_PER_SERVICE,
    queue?: UpstreamQueueOptions & {
      /** Places for a service's requests; `standing`: while its queue stands (overloaded). */
      capacityOf: (service: string, standing: boolean) => number;
      /** Told of each refusal: in the queue (waited too long) or at the bulkhead (too many). */
      onShed?: (service: string, stage: "queue" | "bulkhead") => void;
    },
  ) {
    for (const slots of [maxInFlight, maxHeld])
      if (!Number.isInteger(slots) || slots < 1)
        throw new Error(`a bulkhead needs at least one slot, got ${slots}`);
    this.#maxInFlight = maxInFlight;
    this.#maxHeld = maxHeld;
    this.#capacityOf = queue?.capacityOf;
    this.#onShed = queue?.onShed;
    this.#queueOptions = queue ?? {};
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
      this.#onShed?.(service, "bulkhead");
      throw shed(service, "has too many requests in flight");
    }
    counts.set(service, current + 1);
    try {
      if (held || this.#capacityOf === undefined) return await call();
      return await this.#queued(service, this.#capacityOf, call);
    } finally {
      const left = (counts.get(service) ?? 1) - 1;
      if (left > 0) counts.set(service, left);
      else counts.delete(service);
    }
  }

  /** Waits in the service's queue for one of its `capacityOf(service, standing)` places, then calls. */
  async #queued<T>(
    service: string,
    capacityOf: (service: string, standing: boolean) => number,
    call: () => Promise<T>,
  ): Promise<T> {
    let queue = this.#queues.get(service);
    if (queue === undefined) {
      queue = new UpstreamQueue(this.#queueOptions);
      this.#queues.set(service, queue);
    }
    // Read once per request: the same figure takes the place and gives it back.
    const capacity = capacityOf(service, queue.standing());
    const waiting = queue.acquire(capacity);
    if (waiting !== undefined) {
      try {
        await waiting;
      } catch (error) {
        if (error instanceof QueueTimeoutError) {
          this.#onShed?.(service, "queue");
          throw shed(service, `is answering slower than requests arrive (${error.message})`);
        }
        throw error;
      }
    }
    try {
      return await call();
    } finally {
      queue.release(capacity);
    }
  }

  /** Whether new requests for a service would only wait to be refused (UpstreamQueue.overloaded). */
  overloaded(service: string): boolean {
    return this.#queues.get(service)?.overloaded() ?? false;
  }

  /** Requests waiting for a connection to a service now (see UpstreamQueue). */
  waiting(service: string): number {
    return this.#queues.get(service)?.waiting ?? 0;
  }
}

/** 503 with Retry-After: the request was not sent to the service. */
function shed(service: string, why: string): HttpProblem {
  const problem = HttpProblem.of(
    "unavailable",
    `The ${service} service ${why}; nothing was sent to it. Retry shortly.`,
    { upstream: service },
  );
  problem.headers["retry-after"] = "1";
  return problem;
}
