import { eventDomain } from "../envelope.js";

/**
 * Every subject, stream and consumer name the NATS adapter uses, derived from the bus prefix so
 * that two prefixes (two deployments, two test runs) never see each other's events.
 *
 *   events:  `${prefix}.evt.${type}`        stream `${PREFIX}_EVT_${DOMAIN}`  (one per domain)
 *   dead:    `${prefix}.dlq.${durable}`     stream `${PREFIX}_DLQ`
 *   replay:  `${prefix}.evt.${domain}._replay.${durable}`  in the domain's event stream
 */
export class NatsNames {
  readonly prefix: string;
  readonly #streamPrefix: string;

  constructor(prefix: string) {
    // Tokens of a subject: no wildcards, spaces or empty tokens.
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) {
      throw new Error(`NatsBus: invalid prefix ${JSON.stringify(prefix)}`);
    }
    this.prefix = prefix;
    this.#streamPrefix = streamToken(prefix);
  }

  eventSubject(type: string): string {
    return `${this.prefix}.evt.${type}`;
  }

  /** Everything a domain publishes: the stream's subject and the durables' filter. */
  domainSubjects(domain: string): string {
    return `${this.prefix}.evt.${domain}.>`;
  }

  /**
   * Where a replayed dead letter of `type` goes for one consumer: in the domain's stream, so the
   * consumer's durable there receives it, on a subject no event type can have (types start with
   * a letter), so every other consumer's durable acknowledges it unseen.
   */
  replaySubject(type: string, consumer: string): string {
    return `${this.prefix}.evt.${eventDomain(type)}._replay.${durableName(consumer)}`;
  }

  eventStream(domain: string): string {
    return `${this.#streamPrefix}_EVT_${streamToken(domain)}`;
  }

  /** Every subject of this prefix (used to find the streams to destroy). */
  allSubjects(): string {
    return `${this.prefix}.>`;
  }

  deadLetterStream(): string {
    return `${this.#streamPrefix}_DLQ`;
  }

  deadLetterSubjects(): string {
    return `${this.prefix}.dlq.>`;
  }

  deadLetterSubject(consumer: string): string {
    return `${this.prefix}.dlq.${durableName(consumer)}`;
  }
}

/**
 * The durable consumer name for a consumer (service) name. JetStream names may not contain `.`,
 * `*`, `>`, whitespace or path separators; distinct names that differ only in such characters
 * share a durable, so keep consumer names to `[A-Za-z0-9_-]`.
 */
export function durableName(consumer: string): string {
  if (consumer.length === 0) throw new Error("NatsBus: the consumer name must not be empty");
  return consumer.replace(/[^A-Za-z0-9_-]/g, "_");
}

function streamToken(value: string): string {
  return value.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}
