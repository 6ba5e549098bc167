import {
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { NatsNames } from "./nats-names.js";

/** JetStream's "stream name already in use with a different configuration". */
const STREAM_NAME_EXIST = 10058;

export interface StreamSettings {
  /** JetStream drops a second message with the same `Nats-Msg-Id` within this window. */
  duplicateWindowMs: number;
  /** Events older than this are removed from the event streams. */
  maxAgeMs: number;
  /** Dead letters older than this are removed. */
  deadLetterMaxAgeMs: number;
}

/**
 * Creates (or brings up to date) the streams the bus writes to and reads from, once per stream
 * per process: publishers and subscribers both call `ensure…()` before touching a stream, so
 * whichever side starts first creates it. A failed attempt is forgotten, so the next call retries.
 */
export class NatsStreams {
  readonly #jsm: JetStreamManager;
  readonly #names: NatsNames;
  readonly #settings: StreamSettings;
  readonly #ready = new Map<string, Promise<void>>();

  constructor(jsm: JetStreamManager, names: NatsNames, settings: StreamSettings) {
    this.#jsm = jsm;
    this.#names = names;
    this.#settings = settings;
  }

  ensureEvents(domain: string): Promise<void> {
    return this.#ensure({
      name: this.#names.eventStream(domain),
      subjects: [this.#names.domainSubjects(domain)],
      description: `Blossom integration events of the ${domain} domain`,
      max_age: nanos(this.#settings.maxAgeMs),
    });
  }

  ensureDeadLetters(): Promise<void> {
    return this.#ensure({
      name: this.#names.deadLetterStream(),
      subjects: [this.#names.deadLetterSubjects()],
      description: "Blossom dead letters, one subject per consumer",
      max_age: nanos(this.#settings.deadLetterMaxAgeMs),
      // Dead letters are read back by sequence + subject with the direct get API.
      allow_direct: true,
    });
  }

  /** Deletes every stream holding subjects of this prefix (tests only: it destroys data). */
  async destroyAll(): Promise<void> {
    const names: string[] = [];
    for await (const name of this.#jsm.streams.names(this.#names.allSubjects())) names.push(name);
    await Promise.all(names.map((name) => this.#jsm.streams.delete(name)));
    this.#ready.clear();
  }

  #ensure(
    config: Pick<StreamConfig, "name" | "subjects" | "description" | "max_age"> & Partial<StreamConfig>,
  ) {
    let ready = this.#ready.get(config.name);
    if (!ready) {
      ready = this.#createOrUpdate({
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        duplicate_window: nanos(this.#settings.duplicateWindowMs),
        ...config,
      });
      this.#ready.set(config.name, ready);
      ready.catch(() => this.#ready.delete(config.name));
    }
    return ready;
  }

  async #createOrUpdate(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      // Adding a stream that exists with the same configuration succeeds: idempotent.
      await this.#jsm.streams.add(config);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_EXIST)) throw error;
      await this.#jsm.streams.update(config.name, config);
    }
  }
}
