import type { EventEnvelope } from "../envelope.js";
import {
  type DeadLetter,
  type EventBus,
  type EventHandler,
  resolveSubscribeOptions,
  type SubscribeOptions,
  type Subscription,
} from "../event-bus.js";
import {
  type DroppedDeadLetters,
  MemoryConsumer,
  type MemoryDelivery,
  type MemoryMember,
} from "./memory-consumer.js";

const DEFAULT_DEAD_LETTER_LIMIT = 100;

/** Dead letters kept per consumer by default; past it the oldest go first. */
export const DEFAULT_MAX_DEAD_LETTERS = 1_000;
/**
 * Characters of dead letters (event as JSON, plus error) kept per consumer by default: 4 Mi
 * (4 MiB of ASCII, 8 MiB at most), whatever the events' size. Past it the oldest go first.
 */
export const DEFAULT_MAX_DEAD_LETTER_CHARS = 4 * 1024 * 1024;

export interface MemoryBusOptions {
  /** Dead letters kept per consumer (the oldest are dropped first). Default 1,000. */
  maxDeadLetters?: number;
  /** Characters of dead letters kept per consumer (event JSON + error; the newest always stays). Default 4 Mi. */
  maxDeadLetterChars?: number;
}

/** A dead letter kept, with the characters it counts for. */
interface KeptDeadLetter {
  letter: DeadLetter;
  chars: number;
}

/**
 * The embedded event bus: one process, no broker, all state in this instance (two instances
 * share nothing).
 *
 * Guarantees: each event goes once to every consumer name subscribed to its type (the members of
 * one name share the work, round-robin); per-subject order per consumer; failed handlers are
 * retried after `backoffDelay()` and dead-lettered after `maxDeliver` attempts. `publish()`
 * resolves only once every consumer owed an event has acked or dead-lettered it, since process
 * memory is the only storage: the transactional outbox must not mark an event published earlier.
 * A consumer name whose members all stopped stays owed its events (like a durable), so publishes
 * wait until a member subscribes again or the bus closes.
 *
 * Failure: `close()` rejects every publish still waiting, so the outbox publishes those events
 * again after a restart (consumers dedupe by id). Publishing or subscribing after `close()`
 * rejects. Events published before a consumer name first subscribed are not delivered to it.
 *
 * Dead letters are kept in memory too, bounded per consumer (`MemoryBusOptions`: 1,000 and
 * 4 Mi characters by default, the oldest dropped first; each error cut to
 * `MAX_DEAD_LETTER_ERROR_CHARS`), and lost with the process. A drop is reported to the
 * subscriber's `onDeadLettersDropped`.
 */
export class MemoryBus implements EventBus {
  readonly kind = "memory" as const;
  readonly #consumers = new Map<string, MemoryConsumer>();
  readonly #deadLetters = new Map<string, KeptDeadLetter[]>();
  readonly #maxDeadLetters: number;
  readonly #maxDeadLetterChars: number;
  readonly #unsettled = new Set<{ reject: (error: Error) => void }>();
  /** Per consumer name: deliveries offered and not yet acked or dead-lettered (its lag). */
  readonly #owed = new Map<string, number>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: MemoryBusOptions = {}) {
    this.#maxDeadLetters = options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS;
    this.#maxDeadLetterChars = options.maxDeadLetterChars ?? DEFAULT_MAX_DEAD_LETTER_CHARS;
  }

  async publish(events: EventEnvelope[]): Promise<void> {
    this.#assertOpen("publish");
    // Snapshot first, so that a payload structuredClone cannot copy fails the whole batch before
    // any of it is enqueued, and later mutations by the caller cannot leak into deliveries.
    const snapshots = events.map((event) => structuredClone(event));
    const settled: Promise<void>[] = [];
    // Enqueued synchronously, in publish order: this is what keeps per-subject order.
    for (const event of snapshots) {
      for (const consumer of this.#consumers.values()) {
        if (consumer.wants(event.type)) settled.push(this.#deliver(consumer, event));
      }
    }
    await Promise.all(settled);
  }

  async subscribe(
    consumer: string,
    eventTypes: string[],
    handler: EventHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    this.#assertOpen("subscribe");
    if (eventTypes.length === 0) throw new Error("MemoryBus.subscribe: no event types");
    const member: MemoryMember = {
      types: new Set(eventTypes),
      handler,
      ...resolveSubscribeOptions(options),
      inflight: new Set(),
    };
    let group = this.#consumers.get(consumer);
    if (!group) {
      group = new MemoryConsumer(consumer, (deadLetter) => this.#recordDeadLetter(deadLetter));
      this.#consumers.set(consumer, group);
    }
    group.join(member);
    let stopping: Promise<void> | undefined;
    const joined = group;
    return {
      consumer,
      lag: async () => this.#owed.get(consumer) ?? 0,
      stop: () => {
        stopping ??= (async () => {
          joined.leave(member);
          await waitForInflight([member]);
        })();
        return stopping;
      },
    };
  }

  async deadLetters(consumer: string, limit = DEFAULT_DEAD_LETTER_LIMIT): Promise<DeadLetter[]> {
    const kept = (this.#deadLetters.get(consumer) ?? []).slice(0, limit);
    return structuredClone(kept.map(({ letter }) => letter));
  }

  async deadLetter(consumer: string, id: string): Promise<DeadLetter | undefined> {
    const found = this.#deadLetters.get(consumer)?.find(({ letter }) => letter.id === id);
    return found ? structuredClone(found.letter) : undefined;
  }

  async replayDeadLetter(consumer: string, id: string): Promise<boolean> {
    this.#assertOpen("replay a dead letter");
    // Dead letters are only ever recorded for a consumer that subscribed, and its group outlives
    // its members (a replay with none subscribed is parked until one is).
    const group = this.#consumers.get(consumer);
    const letter = group ? this.#takeDeadLetter(consumer, id) : undefined;
    if (!group || !letter) return false;
    // Owed like any delivery (its lag), but nobody waits on it: the publisher settled long ago.
    this.#owed.set(consumer, (this.#owed.get(consumer) ?? 0) + 1);
    group.offer({
      event: letter.event,
      attempt: 1,
      replayed: true,
      settle: () => this.#owed.set(consumer, (this.#owed.get(consumer) ?? 1) - 1),
    });
    return true;
  }

  async discardDeadLetter(consumer: string, id: string): Promise<boolean> {
    return this.#takeDeadLetter(consumer, id) !== undefined;
  }

  async ping(): Promise<void> {
    this.#assertOpen("ping");
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    const members = [...this.#consumers.values()].flatMap((consumer) => consumer.close());
    await waitForInflight(members);
    await Promise.all([...this.#consumers.values()].map((consumer) => consumer.drain()));
    const error = new Error("MemoryBus closed before every consumer handled the event");
    for (const pending of this.#unsettled) pending.reject(error);
    this.#unsettled.clear();
  }

  #deliver(consumer: MemoryConsumer, event: EventEnvelope): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending = { reject };
      this.#unsettled.add(pending);
      this.#owed.set(consumer.name, (this.#owed.get(consumer.name) ?? 0) + 1);
      const delivery: MemoryDelivery = {
        event,
        attempt: 1,
        settle: () => {
          this.#unsettled.delete(pending);
          this.#owed.set(consumer.name, (this.#owed.get(consumer.name) ?? 1) - 1);
          resolve();
        },
      };
      consumer.offer(delivery);
    });
  }

  /**
   * Keeps a dead letter, dropping the consumer's oldest past either bound (the newest always
   * stays); returns how many it dropped, by the bound that did (the count bound first).
   */
  #recordDeadLetter(deadLetter: DeadLetter): DroppedDeadLetters {
    const list = this.#deadLetters.get(deadLetter.consumer) ?? [];
    list.push({ letter: deadLetter, chars: jsonLength(deadLetter.event) + deadLetter.error.length });
    let chars = list.reduce((sum, kept) => sum + kept.chars, 0);
    const dropped: DroppedDeadLetters = { count: 0, size: 0 };
    while (list.length > 1 && (list.length > this.#maxDeadLetters || chars > this.#maxDeadLetterChars)) {
      dropped[list.length > this.#maxDeadLetters ? "count" : "size"]++;
      chars -= list.shift()?.chars ?? 0;
    }
    this.#deadLetters.set(deadLetter.consumer, list);
    return dropped;
  }

  /** Removes and returns the dead letter (synchronously: two concurrent replays cannot both take it). */
  #takeDeadLetter(consumer: string, id: string): DeadLetter | undefined {
    const list = this.#deadLetters.get(consumer);
    const index = list?.findIndex(({ letter }) => letter.id === id) ?? -1;
    if (!list || index < 0) return undefined;
    return list.splice(index, 1)[0]?.letter;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new Error(`MemoryBus is closed: cannot ${operation}`);
  }
}

/** The length of `value` as JSON; 0 for a value JSON cannot write (the memory bus takes any structured-cloneable data). */
function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}

/** Waits until the members have no handler in flight (handlers may start while we wait). */
async function waitForInflight(members: MemoryMember[]): Promise<void> {
  for (;;) {
    const inflight = members.flatMap((member) => [...member.inflight]);
    if (inflight.length === 0) return;
    await Promise.allSettled(inflight);
  }
}
