import { randomUUID } from "node:crypto";
import type { EventEnvelope } from "../envelope.js";
import {
  backoffDelay,
  type DeadLetter,
  type DeadLetterBound,
  deadLetterError,
  type EventHandler,
  isNonRetryable,
} from "../event-bus.js";
import { KeyedQueue } from "../keyed-queue.js";

/** One event on its way to one consumer; settles the publisher's wait when acked or dead-lettered. */
export interface MemoryDelivery {
  /** Snapshot taken at publish: handlers get their own copy of it. */
  readonly event: EventEnvelope;
  /** The attempt about to be made (1-based). */
  attempt: number;
  /** A dead letter's replay (`DeliveryInfo.replayed`). */
  readonly replayed?: boolean;
  settle(): void;
}

/** How many of a consumer's oldest dead letters keeping a new one dropped, by the bound that did. */
export type DroppedDeadLetters = Record<DeadLetterBound, number>;

/** One `subscribe()` call: a replica of the consumer. */
export interface MemoryMember {
  readonly types: ReadonlySet<string>;
  readonly handler: EventHandler;
  readonly maxDeliver: number;
  readonly backoffMs: number[];
  readonly concurrency: number;
  readonly onDeadLetter?: ((deadLetter: DeadLetter) => void) | undefined;
  readonly onDeadLettersDropped?: ((dropped: number, bound: DeadLetterBound) => void) | undefined;
  /** Handlers of this member in flight, so that its `stop()` can wait for them. */
  readonly inflight: Set<Promise<void>>;
}

/**
 * The in-memory form of a durable consumer: every event of its types is delivered to it once,
 * whichever of its members (replicas) handles it. It outlives its members, like a JetStream
 * durable: deliveries that find no member (all stopped, or waiting for a redelivery) are parked
 * until a member joins, and the publisher keeps waiting for them.
 */
export class MemoryConsumer {
  readonly name: string;
  #types = new Set<string>();
  #members: MemoryMember[] = [];
  #turn = 0;
  #parked: MemoryDelivery[] = [];
  #closed = false;
  readonly #queue = new KeyedQueue(1);
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #onDeadLetter: (deadLetter: DeadLetter) => DroppedDeadLetters;

  /** `onDeadLetter` keeps a dead letter and says which older ones that dropped. */
  constructor(name: string, onDeadLetter: (deadLetter: DeadLetter) => DroppedDeadLetters) {
    this.name = name;
    this.#onDeadLetter = onDeadLetter;
  }

  /** Whether a published event of this type is owed to this consumer. */
  wants(type: string): boolean {
    return this.#types.has(type);
  }

  join(member: MemoryMember): void {
    this.#members.push(member);
    this.#refresh();
    const parked = this.#parked;
    this.#parked = [];
    for (const delivery of parked) this.offer(delivery);
  }

  leave(member: MemoryMember): void {
    this.#members = this.#members.filter((candidate) => candidate !== member);
    this.#refresh();
  }

  /** Queues a delivery behind the earlier ones of the same subject. */
  offer(delivery: MemoryDelivery): void {
    void this.#queue.run(delivery.event.subject, () => this.#attempt(delivery));
  }

  /** Stops redeliveries and detaches every member; `drain()` then waits for the handlers. */
  close(): MemoryMember[] {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const members = this.#members;
    this.#members = [];
    this.#parked = [];
    return members;
  }

  drain(): Promise<void> {
    return this.#queue.drain();
  }

  /** Types are the union of the live members'; with none left the last set stays (durable interest). */
  #refresh(): void {
    if (this.#members.length === 0) return;
    this.#types = new Set(this.#members.flatMap((member) => [...member.types]));
    this.#queue.concurrency = this.#members.reduce((sum, member) => sum + member.concurrency, 0);
  }

  /** Round-robin over the members subscribed to the type. */
  #pick(type: string): MemoryMember | undefined {
    const candidates = this.#members.filter((member) => member.types.has(type));
    if (candidates.length === 0) return undefined;
    this.#turn = (this.#turn + 1) % candidates.length;
    return candidates[this.#turn];
  }

  async #attempt(delivery: MemoryDelivery): Promise<void> {
    if (this.#closed) return;
    const member = this.#pick(delivery.event.type);
    if (!member) {
      this.#parked.push(delivery);
      return;
    }
    const handling = this.#handle(member, delivery);
    member.inflight.add(handling);
    try {
      await handling;
    } finally {
      member.inflight.delete(handling);
    }
  }

  async #handle(member: MemoryMember, delivery: MemoryDelivery): Promise<void> {
    const { attempt } = delivery;
    if (attempt > member.maxDeliver) {
      // Only reachable when a member with a lower maxDeliver picks up a redelivery: the same rule
      // as the NATS adapter's crash-loop guard, so both behave alike.
      this.#deadLetter(
        member,
        delivery,
        attempt - 1,
        `gave up after ${attempt - 1} deliveries (maxDeliver ${member.maxDeliver})`,
      );
      return;
    }
    try {
      await member.handler(structuredClone(delivery.event), {
        attempt,
        consumer: this.name,
        ...(delivery.replayed ? { replayed: true } : {}),
      });
      delivery.settle();
    } catch (error) {
      // A non-retryable error (an event that breaks its contract) would fail the same way again.
      if (attempt >= member.maxDeliver || isNonRetryable(error)) {
        this.#deadLetter(member, delivery, attempt, deadLetterError(error));
      } else if (!this.#closed) {
        this.#redeliverLater(delivery, backoffDelay(member.backoffMs, attempt));
      }
      // Closed: the delivery stays unsettled and `MemoryBus.close()` rejects the publish, so the
      // outbox keeps the event and publishes it again after a restart.
    }
  }

  #redeliverLater(delivery: MemoryDelivery, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      delivery.attempt++;
      this.offer(delivery);
    }, delayMs);
    // A pending redelivery must not keep the process alive on its own.
    timer.unref();
    this.#timers.add(timer);
  }

  #deadLetter(member: MemoryMember, delivery: MemoryDelivery, attempts: number, error: string): void {
    const deadLetter: DeadLetter = {
      id: randomUUID(),
      consumer: this.name,
      event: structuredClone(delivery.event),
      attempts,
      error,
      at: new Date().toISOString(),
    };
    const dropped = this.#onDeadLetter(deadLetter);
    member.onDeadLetter?.(deadLetter);
    if (dropped.count > 0) member.onDeadLettersDropped?.(dropped.count, "count");
    if (dropped.size > 0) member.onDeadLettersDropped?.(dropped.size, "size");
    delivery.settle();
  }
}
