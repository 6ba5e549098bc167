import { JetStreamApiError, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { eventDomain } from "../envelope.js";
import type { DeadLetter } from "../event-bus.js";
import type { NatsNames } from "./nats-names.js";
import type { NatsStreams } from "./nats-streams.js";

/** A dead letter as `NatsSubscription` hands it over, before the stream gives it its id. */
export type NewDeadLetter = Omit<DeadLetter, "id">;

/** A dead letter's id: its sequence in the dead-letter stream, as decimal digits. */
const SEQUENCE = /^[1-9][0-9]{0,15}$/;

/**
 * The dead-letter queue: one JetStream stream for the prefix, one subject per consumer, each
 * message a JSON `DeadLetter` (without its id: the id is the message's stream sequence). Writes
 * are deduplicated by (consumer, stream sequence) so that a crash between writing the dead letter
 * and terminating the message does not record it twice. Replaying or discarding one deletes its
 * message; a replay is published first, with a message id the server deduplicates, so replaying
 * one dead letter from two replicas at once delivers it once.
 */
export class NatsDeadLetters {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #names: NatsNames;
  readonly #streams: NatsStreams;

  constructor(js: JetStreamClient, jsm: JetStreamManager, names: NatsNames, streams: NatsStreams) {
    this.#js = js;
    this.#jsm = jsm;
    this.#names = names;
    this.#streams = streams;
  }

  /**
   * Stores a dead letter and returns it with its id; rejects if JetStream did not acknowledge
   * it. `source` is where the event sits in its event stream: it names the delivery that gave up.
   */
  async write(deadLetter: NewDeadLetter, source: { stream: string; sequence: number }): Promise<DeadLetter> {
    await this.#streams.ensureDeadLetters();
    const subject = this.#names.deadLetterSubject(deadLetter.consumer);
    const ack = await this.#js.publish(subject, JSON.stringify(deadLetter), {
      msgID: `${subject}:${source.stream}:${source.sequence}`,
    });
    return { id: String(ack.seq), ...deadLetter };
  }

  /** The consumer's dead letters, oldest first (one direct get per letter: meant for operators). */
  async read(consumer: string, limit: number): Promise<DeadLetter[]> {
    await this.#streams.ensureDeadLetters();
    const stream = this.#names.deadLetterStream();
    const subject = this.#names.deadLetterSubject(consumer);
    const letters: DeadLetter[] = [];
    let seq = 1;
    while (letters.length < limit) {
      const message = await this.#jsm.direct.getMessage(stream, { seq, next_by_subj: subject });
      if (!message) break;
      letters.push({ ...message.json<NewDeadLetter>(), id: String(message.seq) });
      seq = message.seq + 1;
    }
    return letters;
  }

  /** One dead letter of the consumer by id; undefined if none (another consumer's is none too). */
  async get(consumer: string, id: string): Promise<DeadLetter | undefined> {
    if (!SEQUENCE.test(id)) return undefined;
    await this.#streams.ensureDeadLetters();
    const message = await this.#jsm.direct.getMessage(this.#names.deadLetterStream(), { seq: Number(id) });
    if (!message || message.subject !== this.#names.deadLetterSubject(consumer)) return undefined;
    return { ...message.json<NewDeadLetter>(), id };
  }

  /**
   * Publishes the dead letter's event on the consumer's replay subject of its domain stream,
   * which only that consumer's durable handles (see `NatsNames.replaySubject`), then deletes it.
   */
  async replay(consumer: string, id: string): Promise<boolean> {
    const letter = await this.get(consumer, id);
    if (!letter) return false;
    await this.#streams.ensureEvents(eventDomain(letter.event.type));
    await this.#js.publish(
      this.#names.replaySubject(letter.event.type, consumer),
      JSON.stringify(letter.event),
      {
        msgID: `replay:${this.#names.deadLetterSubject(consumer)}:${id}`,
      },
    );
    await this.#delete(id);
    return true;
  }

  async discard(consumer: string, id: string): Promise<boolean> {
    if (!(await this.get(consumer, id))) return false;
    return this.#delete(id);
  }

  /** Deletes the message; `false` if it was gone already (a concurrent replay or discard). */
  async #delete(id: string): Promise<boolean> {
    try {
      return await this.#jsm.streams.deleteMessage(this.#names.deadLetterStream(), Number(id), false);
    } catch (error) {
      if (error instanceof JetStreamApiError) return false;
      throw error;
    }
  }
}
