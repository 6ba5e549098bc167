import { cutText } from "@blossom/telemetry";
import type { EventEnvelope } from "./envelope.js";

/** What a handler learns about the delivery it is handling. */
export interface DeliveryInfo {
  /** 1 on the first delivery, 2 on the first redelivery, … */
  attempt: number;
  /** The durable consumer (subscribing service) this delivery belongs to. */
  consumer: string;
  /**
   * Whether the event is a dead letter's replay (`EventBus.replayDeadLetter`), on every attempt
   * of it: its envelope keeps the time it first occurred, so its age says nothing about lag.
   * Both adapters set it, and only then (absent means false).
   */
  replayed?: boolean;
}

/**
 * Handles one event. Resolving acknowledges it; throwing asks for a redelivery after the
 * consumer's backoff; after `maxDeliver` failed attempts the event goes to the dead letters.
 * An error whose `retryable` property is `false` (see `isNonRetryable`) is dead-lettered at
 * once: retrying an event that breaks its contract cannot succeed.
 * Delivery is at-least-once: handlers must be idempotent (see `Inbox`).
 */
export type EventHandler = (event: EventEnvelope, info: DeliveryInfo) => Promise<void>;

export interface SubscribeOptions {
  /** Attempts before an event is dead-lettered. Default 5. */
  maxDeliver?: number;
  /** Delay before redelivery n (index n-1); the last value repeats. Default [100, 500, 2000, 5000] ms. */
  backoffMs?: number[];
  /**
   * Events handled at once by this process for this consumer. Events of the same `subject`
   * are never handled concurrently and keep their publish order. Default 8.
   */
  concurrency?: number;
  /**
   * Called once for each event the consumer gives up on, after its dead letter is stored (both
   * adapters, whichever rule gave up: attempts exhausted, a non-retryable error, a crash loop).
   * For metrics; it must not throw.
   */
  onDeadLetter?: (deadLetter: DeadLetter) => void;
  /**
   * Memory bus only (NATS keeps dead letters by age, on the server): called when keeping a new
   * dead letter of this consumer dropped its oldest ones, with how many and which bound did it
   * (`MemoryBusOptions.maxDeadLetters`: "count"; `maxDeadLetterChars`: "size"). For metrics and
   * logs; it must not throw.
   */
  onDeadLettersDropped?: (dropped: number, bound: DeadLetterBound) => void;
}

/** Which bound of the memory bus's dead letters made it drop the oldest. */
export type DeadLetterBound = "count" | "size";

export interface Subscription {
  readonly consumer: string;
  /**
   * Events owed to this consumer (the service, all its replicas) and not yet acknowledged or
   * dead-lettered: memory, deliveries queued, in flight or waiting for a redelivery; NATS, the
   * durables' pending plus unacknowledged messages. For metrics (consumer lag).
   */
  lag(): Promise<number>;
  /** Stops taking new deliveries and waits for the handlers in flight. */
  stop(): Promise<void>;
}

/** An event a consumer gave up on, as the bus keeps it until it is replayed or discarded. */
export interface DeadLetter {
  /**
   * Names the dead letter within its consumer's (memory: a random UUID; NATS: its sequence in
   * the dead-letter stream). Never reused for another dead letter of the same bus.
   */
  id: string;
  consumer: string;
  event: EventEnvelope;
  attempts: number;
  error: string;
  at: string;
}

/**
 * The event bus port. Every adapter passes the same contract suite (`bus.contract.test.ts`).
 *
 * Guarantees: at-least-once delivery to every subscribed consumer (a consumer name is a
 * service: its replicas share the work, each event goes to one of them), per-subject order for
 * one consumer, redelivery with backoff on failure, dead-lettering after `maxDeliver` attempts.
 * Publishing to a type nobody subscribes to is not an error. A consumer's first subscription
 * gets what the bus retained from before it (nats: the stream, 7 days; memory: nothing, since
 * memory is no storage — the embedded launcher subscribes every consumer before any publish).

 */
export interface EventBus {
  readonly kind: "memory" | "nats";
  /**
   * Publishes events in order. Resolves once the bus has durably accepted all of them
   * (nats: every PubAck; memory: every subscribed consumer has acked or dead-lettered each one,
   * because the process memory is the only "storage" and the outbox must not forget early).
   * Rejects if any was not accepted: the caller (the outbox relay) retries, and consumers
   * dedupe by `id`.
   */
  publish(events: EventEnvelope[]): Promise<void>;
  /** Registers a durable consumer for the given event types. */
  subscribe(
    consumer: string,
    eventTypes: string[],
    handler: EventHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription>;
  /** Reads what was dead-lettered for a consumer, oldest first. */
  deadLetters(consumer: string, limit?: number): Promise<DeadLetter[]>;
  /** One dead letter of the consumer; undefined when there is none by that id (any more). */
  deadLetter(consumer: string, id: string): Promise<DeadLetter | undefined>;
  /**
   * Delivers the dead letter's event again, to this consumer only (its other subscribers see
   * nothing), as a first attempt with the consumer's usual retries, and removes the dead letter.
   * The event keeps its id, so the consumer's inbox still lets it take effect at most once.
   * Resolves once the redelivery is queued (not handled): `false` when there is no such dead
   * letter (never, or already replayed or discarded). Concurrent replays of one dead letter
   * deliver it once (nats: the replay is published with a message id the server deduplicates).
   * Rejects if the bus could not take the redelivery; the dead letter then stays.
   */
  replayDeadLetter(consumer: string, id: string): Promise<boolean>;
  /** Removes the dead letter without delivering it; `false` when there is no such dead letter. */
  discardDeadLetter(consumer: string, id: string): Promise<boolean>;
  /** Resolves when the bus is reachable; rejects otherwise (readiness probe). */
  ping(): Promise<void>;
  /** Stops every subscription (draining handlers in flight), then closes the connection. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_BACKOFF_MS = [100, 500, 2000, 5000];
export const DEFAULT_CONCURRENCY = 8;

/** The delay before the redelivery that follows failed attempt `attempt` (1-based). */
export function backoffDelay(backoffMs: number[], attempt: number): number {
  if (backoffMs.length === 0) return 0;
  return backoffMs[Math.min(attempt, backoffMs.length) - 1] ?? 0;
}

/** A dead letter's `error` is kept cut to this many characters (both adapters). */
export const MAX_DEAD_LETTER_ERROR_CHARS = 2048;

/** What a dead letter records of the error that gave up on its event: the message, cut. */
export function deadLetterError(error: unknown): string {
  return cutText(error instanceof Error ? error.message : String(error), MAX_DEAD_LETTER_ERROR_CHARS);
}

/** Whether an error says retrying cannot help (`retryable === false`, e.g. `EventContractError`). */
export function isNonRetryable(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable === false
  );
}

/** Subscribe options with every default filled in. */
export type ResolvedSubscribeOptions = Required<
  Omit<SubscribeOptions, "onDeadLetter" | "onDeadLettersDropped">
> &
  Pick<SubscribeOptions, "onDeadLetter" | "onDeadLettersDropped">;

/**
 * Fills in the defaults and checks the options, the same way for every adapter.
 * @throws RangeError for a `maxDeliver` or `concurrency` that is not a positive integer.
 */
export function resolveSubscribeOptions(options: SubscribeOptions = {}): ResolvedSubscribeOptions {
  const positive = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    return value;
  };
  return {
    maxDeliver: positive("maxDeliver", options.maxDeliver ?? DEFAULT_MAX_DELIVER),
    backoffMs: options.backoffMs ?? DEFAULT_BACKOFF_MS,
    concurrency: positive("concurrency", options.concurrency ?? DEFAULT_CONCURRENCY),
    ...(options.onDeadLetter ? { onDeadLetter: options.onDeadLetter } : {}),
    ...(options.onDeadLettersDropped ? { onDeadLettersDropped: options.onDeadLettersDropped } : {}),
  };
}
