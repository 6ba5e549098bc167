import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { EventEnvelope } from "../envelope.js";
import {
  backoffDelay,
  type DeadLetter,
  deadLetterError,
  type EventHandler,
  isNonRetryable,
  type Subscription,
} from "../event-bus.js";
import { KeyedQueue } from "../keyed-queue.js";
import type { BusLogger } from "./bus-logger.js";
import type { NatsDeadLetters } from "./nats-dead-letters.js";

export interface NatsSubscriptionSettings {
  consumer: string;
  types: ReadonlySet<string>;
  /**
   * The subjects of `types`, and this consumer's replay subject of each of their domains: a
   * message on another one is acknowledged without decoding it.
   */
  subjects: ReadonlySet<string>;
  /** The replay subjects among `subjects`: a message there is a dead letter's replay. */
  replaySubjects: ReadonlySet<string>;
  handler: EventHandler;
  maxDeliver: number;
  backoffMs: number[];
  concurrency: number;
  onDeadLetter?: ((deadLetter: DeadLetter) => void) | undefined;
  ackWaitMs: number;
  deadLetters: NatsDeadLetters;
  logger: BusLogger;
  onStopped: () => void;
}

/** Notifications of the pull consumer worth an operator's attention. */
const WORRYING_STATUSES = new Set([
  "heartbeats_missed",
  "consumer_not_found",
  "stream_not_found",
  "consumer_deleted",
]);

/**
 * One `subscribe()` call on the NATS adapter: pulls from the consumer's durable on each domain
 * stream and runs the handler through a KeyedQueue (per-subject order, `concurrency` at once).
 *
 * Guarantees: an event is acked only after its handler resolved; a throw naks it with the
 * backoff delay, and the delivery that reaches `maxDeliver` is dead-lettered and terminated.
 * Delivery counts are JetStream's, so they also count deliveries whose process died mid-handler
 * (never acked, redelivered after the ack wait): a delivery past `maxDeliver` is dead-lettered
 * without running the handler, which stops crash loops.
 *
 * Failure: if the dead letter cannot be written the message is nak'ed and comes back (already
 * past `maxDeliver`, so the next delivery only retries the dead-lettering). Handler errors are
 * logged at warn, bus errors at error; none escapes to the caller.
 */
export class NatsSubscription implements Subscription {
  readonly consumer: string;
  readonly #settings: NatsSubscriptionSettings;
  readonly #queue: KeyedQueue;
  /** Messages received and not finished; above this the pull loop waits (client-side backpressure). */
  readonly #bufferLimit: number;
  readonly #pulls: ConsumerMessages[] = [];
  readonly #durables: Consumer[] = [];
  readonly #loops: Promise<void>[] = [];
  #stopping = false;
  #stopped: Promise<void> | undefined;

  constructor(settings: NatsSubscriptionSettings) {
    this.consumer = settings.consumer;
    this.#settings = settings;
    this.#queue = new KeyedQueue(settings.concurrency);
    this.#bufferLimit = Math.max(2 * settings.concurrency, 10);
  }

  /** Starts pulling from each durable; stops what it started if one of them fails. */
  async start(durables: Consumer[]): Promise<void> {
    try {
      for (const durable of durables) {
        this.#durables.push(durable);
        // Pulls happen only while the loop iterates, so `max_messages` bounds what sits in memory
        // (and ages against the ack wait) before a handler takes it.
        const pull = await durable.consume({ max_messages: this.#bufferLimit });
        this.#pulls.push(pull);
        this.#loops.push(this.#pullLoop(pull), this.#watch(pull));
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Pending (not yet delivered) plus delivered-but-unacknowledged messages of the durables. */
  async lag(): Promise<number> {
    const infos = await Promise.all(this.#durables.map((durable) => durable.info()));
    return infos.reduce((sum, info) => sum + info.num_pending + info.num_ack_pending, 0);
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      await Promise.allSettled(this.#pulls.map((pull) => pull.close()));
      await Promise.allSettled(this.#loops);
      await this.#queue.drain();
      this.#settings.onStopped();
    })();
    return this.#stopped;
  }

  async #pullLoop(pull: ConsumerMessages): Promise<void> {
    try {
      for await (const msg of pull) {
        if (this.#stopping) {
          // Already fetched but we are leaving: hand it straight back to the other replicas.
          this.#safely("nak", () => msg.nak());
          continue;
        }
        this.#dispatch(msg);
        await this.#queue.whenBelow(this.#bufferLimit);
      }
    } catch (error) {
      if (!this.#stopping) {
        this.#settings.logger.error({ err: error, consumer: this.consumer }, "NATS bus: pull loop ended");
      }
    }
  }

  async #watch(pull: ConsumerMessages): Promise<void> {
    try {
      for await (const status of pull.status()) {
        if (WORRYING_STATUSES.has(status.type)) {
          this.#settings.logger.warn({ consumer: this.consumer, status }, "NATS bus: consumer status");
        }
      }
    } catch {
      // The status stream ends with the pull; nothing to report beyond what the pull loop logs.
    }
  }

  #dispatch(msg: JsMsg): void {
    if (!this.#settings.subjects.has(msg.subject)) {
      // The durable listens to the whole domain (servers before 2.10 filter on one subject only):
      // events of types this consumer did not subscribe to (about half of what a service's
      // durables receive in a checkout) are acknowledged unseen, without parsing them.
      this.#safely("ack", () => msg.ack());
      return;
    }
    let event: EventEnvelope;
    try {
      event = msg.json<EventEnvelope>();
    } catch (error) {
      // Not an envelope: nothing can ever handle it, and a DeadLetter needs one.
      this.#settings.logger.error(
        { err: error, consumer: this.consumer, subject: msg.subject, seq: msg.seq },
        "NATS bus: undecodable message terminated",
      );
      this.#safely("term", () => msg.term());
      return;
    }
    if (!this.#settings.types.has(event.type)) {
      // On a subscribed subject but of another type (not something this bus publishes).
      this.#safely("ack", () => msg.ack());
      return;
    }
    const receivedAt = Date.now();
    void this.#queue.run(event.subject, () => this.#handle(msg, event, receivedAt));
  }

  /** Never throws: it runs detached in the queue. */
  async #handle(msg: JsMsg, event: EventEnvelope, receivedAt: number): Promise<void> {
    const { maxDeliver, backoffMs, ackWaitMs, handler, logger } = this.#settings;
    const attempt = msg.info.deliveryCount;
    if (attempt > maxDeliver) {
      const given = attempt - 1;
      const error = `gave up after ${given} deliveries without an ack (handler crashed or timed out; maxDeliver ${maxDeliver})`;
      await this.#deadLetter(msg, event, given, error);
      return;
    }
    // Waiting in the queue ate into the ack wait: reset it, then keep resetting it while a long
    // handler runs, so JetStream does not redeliver an event that is being handled.
    if (Date.now() - receivedAt > ackWaitMs / 4) this.#safely("working", () => msg.working());
    const heartbeat = setInterval(() => this.#safely("working", () => msg.working()), ackWaitMs / 2);
    heartbeat.unref();
    try {
      // A replay is told by its subject (see `NatsNames.replaySubject`), not by a header: replays
      // published before the flag existed are recognised too.
      const replayed = this.#settings.replaySubjects.has(msg.subject);
      await handler(event, { attempt, consumer: this.consumer, ...(replayed ? { replayed } : {}) });
      this.#safely("ack", () => msg.ack());
    } catch (error) {
      logger.warn(
        { err: error, consumer: this.consumer, eventId: event.id, type: event.type, attempt },
        "NATS bus: handler failed",
      );
      // A non-retryable error (an event that breaks its contract) would fail the same way again.
      if (attempt >= maxDeliver || isNonRetryable(error)) {
        await this.#deadLetter(msg, event, attempt, deadLetterError(error));
      } else {
        this.#safely("nak", () => msg.nak(backoffDelay(backoffMs, attempt)));
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  async #deadLetter(msg: JsMsg, event: EventEnvelope, attempts: number, error: string): Promise<void> {
    const letter = { consumer: this.consumer, event, attempts, error, at: new Date().toISOString() };
    try {
      const deadLetter = await this.#settings.deadLetters.write(letter, {
        stream: msg.info.stream,
        sequence: msg.seq,
      });
      this.#settings.onDeadLetter?.(deadLetter);
      this.#settings.logger.error(
        { consumer: this.consumer, eventId: event.id, type: event.type, attempts, error },
        "NATS bus: event dead-lettered",
      );
      this.#safely("term", () => msg.term());
    } catch (writeError) {
      this.#settings.logger.error(
        { err: writeError, consumer: this.consumer, eventId: event.id },
        "NATS bus: could not write the dead letter; the event will come back",
      );
      this.#safely("nak", () => msg.nak(backoffDelay(this.#settings.backoffMs, attempts)));
    }
  }

  /** Acks go out over the connection, which may be closing: log instead of throwing. */
  #safely(what: string, send: () => void): void {
    try {
      send();
    } catch (error) {
      this.#settings.logger.warn({ err: error, consumer: this.consumer }, `NATS bus: ${what} not sent`);
    }
  }
}
