import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { DeadLetter } from "../event-bus.js";
import type { NatsNames } from "./nats-names.js";
import type { NatsStreams } from "./nats-streams.js";

/**
 * The dead-letter queue: one JetStream stream for the prefix, one subject per consumer, each
 * message a JSON `DeadLetter`. Writes are deduplicated by (consumer, stream sequence) so that a
 * crash between writing the dead letter and terminating the message does not record it twice.
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
   * Stores a dead letter; rejects if JetStream did not acknowledge it. `source` is where the
   * event sits in its event stream: it names the delivery that gave up.
   */
  async write(deadLetter: DeadLetter, source: { stream: string; sequence: number }): Promise<void> {
    await this.#streams.ensureDeadLetters();
    const subject = this.#names.deadLetterSubject(deadLetter.consumer);
    await this.#js.publish(subject, JSON.stringify(deadLetter), {
      msgID: `${subject}:${source.stream}:${source.sequence}`,
    });
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
      letters.push(message.json<DeadLetter>());
      seq = message.seq + 1;
    }
    return letters;
  }
}
