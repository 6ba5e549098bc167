import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import {
  connect,
  deadline,
  headers,
  type MsgHdrs,
  type NatsConnection,
  nanos,
} from "@nats-io/transport-node";
import { type EventEnvelope, eventDomain } from "../envelope.js";
import {
  type DeadLetter,
  type EventBus,
  type EventHandler,
  resolveSubscribeOptions,
  type SubscribeOptions,
  type Subscription,
} from "../event-bus.js";
import { type BusLogger, silentLogger } from "./bus-logger.js";
import { NatsDeadLetters } from "./nats-dead-letters.js";
import { durableName, NatsNames } from "./nats-names.js";
import { NatsStreams } from "./nats-streams.js";
import { NatsSubscription } from "./nats-subscription.js";

export type { BusLogger } from "./bus-logger.js";

export interface NatsBusOptions {
  /** `nats://host:port` (a comma-separated list for a cluster). */
  url: string;
  /** Namespaces subjects and streams (one deployment, one test). Default "blossom". */
  prefix?: string;
  /** Connection name, shown by the server's monitoring. */
  name?: string;
  logger?: BusLogger;
  /** A republished event id within this window is dropped by the server. Default 2 min. */
  duplicateWindowMs?: number;
  /** Unacked deliveries come back after this (a crashed or stuck replica). Default 30 s. */
  ackWaitMs?: number;
  /** Events are kept in their streams this long. Default 7 days. */
  maxAgeMs?: number;
}

const DEFAULT_PREFIX = "blossom";
const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60_000;
const DEFAULT_ACK_WAIT_MS = 30_000;
const DEFAULT_MAX_AGE_MS = 7 * 24 * 3_600_000;
const DEAD_LETTER_MAX_AGE_MS = 30 * 24 * 3_600_000;
const DEFAULT_DEAD_LETTER_LIMIT = 100;
const PING_TIMEOUT_MS = 2_000;

/**
 * The event bus on NATS JetStream.
 *
 * Layout: each publishing domain (first segment of the type) has a stream `${PREFIX}_EVT_${DOMAIN}`
 * on `${prefix}.evt.${domain}.>`; each consumer (service) name has a durable pull consumer on the
 * stream of every domain it subscribes to. Replicas of a service subscribe with the same name,
 * so they pull from the same durable: JetStream hands each message to one of them, which is the
 * JetStream form of a queue group.
 *
 * Guarantees: `publish()` resolves once every event has a PubAck (stored on disk) and sends them
 * pipelined, in order; each carries `Nats-Msg-Id: <event id>`, so a republish within the
 * duplicate window (the outbox retrying after a crash) is dropped by the server. Delivery is
 * at-least-once, per-subject ordered per replica, with redelivery after the backoff and
 * dead-lettering after `maxDeliver` (see `NatsSubscription`). A durable starts at the events
 * published after it was first created.
 *
 * Failure: `publish()` rejects if any event was not acknowledged (no stream, timeout, connection
 * lost); some of the batch may have been stored, which the id dedup makes harmless on retry.
 * The connection reconnects forever; while it is down publishes and pings reject.
 */
export class NatsBus implements EventBus {
  readonly kind = "nats" as const;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #names: NatsNames;
  readonly #streams: NatsStreams;
  readonly #deadLetters: NatsDeadLetters;
  readonly #logger: BusLogger;
  readonly #ackWaitMs: number;
  readonly #subscriptions = new Set<NatsSubscription>();
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Connects and checks that JetStream is enabled; rejects if the server is unreachable. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const names = new NatsNames(options.prefix ?? DEFAULT_PREFIX);
    const nc = await connect({
      servers: options.url.split(","),
      name: options.name ?? "blossom",
      // A running service rides out broker restarts; publishes fail meanwhile and the outbox retries.
      maxReconnectAttempts: -1,
    });
    try {
      const jsm = await jetstreamManager(nc);
      return new NatsBus(nc, jsm, names, options);
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  private constructor(nc: NatsConnection, jsm: JetStreamManager, names: NatsNames, options: NatsBusOptions) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc);
    this.#names = names;
    this.#logger = options.logger ?? silentLogger;
    this.#ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    this.#streams = new NatsStreams(jsm, names, {
      duplicateWindowMs: options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS,
      maxAgeMs: options.maxAgeMs ?? DEFAULT_MAX_AGE_MS,
      deadLetterMaxAgeMs: DEAD_LETTER_MAX_AGE_MS,
    });
    this.#deadLetters = new NatsDeadLetters(this.#js, jsm, names, this.#streams);
  }

  async publish(events: EventEnvelope[]): Promise<void> {
    this.#assertOpen("publish");
    if (events.length === 0) return;
    const domains = new Set(events.map((event) => eventDomain(event.type)));
    await Promise.all([...domains].map((domain) => this.#streams.ensureEvents(domain)));
    // Each publish writes its request to the socket synchronously, before the next one: sending
    // them all before awaiting any keeps publish order without a round trip per event.
    const acks = events.map((event) =>
      this.#js.publish(this.#names.eventSubject(event.type), JSON.stringify(event), {
        msgID: event.id,
        headers: traceHeaders(event),
      }),
    );
    await Promise.all(acks);
  }

  async subscribe(
    consumer: string,
    eventTypes: string[],
    handler: EventHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    this.#assertOpen("subscribe");
    if (eventTypes.length === 0) throw new Error("NatsBus.subscribe: no event types");
    const durable = durableName(consumer);
    await this.#streams.ensureDeadLetters();
    const domains = [...new Set(eventTypes.map(eventDomain))];
    const durables = await Promise.all(
      domains.map((domain) => this.#ensureDurable(domain, consumer, durable)),
    );
    const subscription: NatsSubscription = new NatsSubscription({
      consumer,
      types: new Set(eventTypes),
      subjects: new Set(
        eventTypes.flatMap((type) => [
          this.#names.eventSubject(type),
          this.#names.replaySubject(type, consumer),
        ]),
      ),
      replaySubjects: new Set(eventTypes.map((type) => this.#names.replaySubject(type, consumer))),
      handler,
      ...resolveSubscribeOptions(options),
      ackWaitMs: this.#ackWaitMs,
      deadLetters: this.#deadLetters,
      logger: this.#logger,
      onStopped: () => this.#subscriptions.delete(subscription),
    });
    this.#subscriptions.add(subscription);
    await subscription.start(durables);
    return subscription;
  }

  async deadLetters(consumer: string, limit = DEFAULT_DEAD_LETTER_LIMIT): Promise<DeadLetter[]> {
    this.#assertOpen("read dead letters");
    return this.#deadLetters.read(consumer, limit);
  }

  async deadLetter(consumer: string, id: string): Promise<DeadLetter | undefined> {
    this.#assertOpen("read a dead letter");
    return this.#deadLetters.get(consumer, id);
  }

  async replayDeadLetter(consumer: string, id: string): Promise<boolean> {
    this.#assertOpen("replay a dead letter");
    return this.#deadLetters.replay(consumer, id);
  }

  async discardDeadLetter(consumer: string, id: string): Promise<boolean> {
    this.#assertOpen("discard a dead letter");
    return this.#deadLetters.discard(consumer, id);
  }

  async ping(): Promise<void> {
    this.#assertOpen("ping");
    await deadline(this.#nc.flush(), PING_TIMEOUT_MS);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /**
   * Deletes every stream of this bus's prefix (events and dead letters), with their consumers.
   * For tests and throwaway environments only: it destroys data.
   */
  async destroyStreams(): Promise<void> {
    this.#assertOpen("destroy streams");
    await this.#streams.destroyAll();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.stop()));
    if (!this.#nc.isClosed()) await this.#nc.drain();
  }

  /**
   * Creates the consumer's durable on the domain stream, or updates it if its settings changed.
   * It filters on the whole domain rather than per type: per-type `filter_subjects` needs
   * NATS 2.10 and Debian's server is 2.9, so `NatsSubscription` acks the other types unseen.
   */
  async #ensureDurable(domain: string, consumer: string, durable: string): Promise<Consumer> {
    await this.#streams.ensureEvents(domain);
    const stream = this.#names.eventStream(domain);
    const settings: Partial<ConsumerConfig> = {
      description: `Blossom consumer ${consumer}`,
      filter_subject: this.#names.domainSubjects(domain),
      ack_wait: nanos(this.#ackWaitMs),
      // Unlimited on the server: maxDeliver is enforced by NatsSubscription from the delivery
      // count, which also catches deliveries that crashed the process and so were never nak'ed.
      max_deliver: -1,
    };
    try {
      await this.#jsm.consumers.add(stream, {
        ...settings,
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        // A service deployed after its publishers must still get what they already published
        // (a sign-up before notifications first started): start from what the stream retains.
        deliver_policy: DeliverPolicy.All,
      });
    } catch (error) {
      if (!(error instanceof JetStreamApiError)) throw error;
      // The durable exists with other settings (an older deployment): bring it up to date.
      await this.#jsm.consumers.update(stream, durable, settings);
    }
    return this.#js.consumers.get(stream, durable);
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new Error(`NatsBus is closed: cannot ${operation}`);
  }
}

/** W3C trace context and the correlation id, as headers for tools that never parse the body. */
function traceHeaders(event: EventEnvelope): MsgHdrs | undefined {
  if (!event.traceparent && !event.tracestate && !event.correlationId) return undefined;
  const result = headers();
  if (event.traceparent) result.set("traceparent", event.traceparent);
  if (event.tracestate) result.set("tracestate", event.tracestate);
  if (event.correlationId) result.set("correlation-id", event.correlationId);
  return result;
}
