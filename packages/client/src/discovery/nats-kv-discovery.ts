import type { KvWatchEntry } from "@nats-io/kv";
import type { Discovery, InstancesListener } from "./discovery.js";
import type { InstanceBucket, InstanceRecord } from "./instance-bucket.js";
import { InstanceWatchers } from "./instance-watchers.js";

export interface NatsKvDiscoveryOptions {
  /** A failed watch or an undecodable entry, for logging; the discovery itself never logs. */
  onError?: (error: Error) => void;
}

interface LiveEntry {
  record: InstanceRecord;
  /** Local clock: past this, the entry is a dead instance that missed its heartbeats. */
  expiresAt: number;
}

/** How long `start()` waits for the bucket's current entries before serving what it has. */
const INITIAL_LOAD_LIMIT_MS = 5_000;

/**
 * A `Discovery` over the instance bucket: the instances of a service are the entries under
 * `<service>.*` that `NatsKvRegistrar`s keep alive, so replicas that come and go (a supervisor's
 * restarts, a scale-up) are balanced across without any configuration.
 *
 * Guarantees:
 * - `instances` is synchronous: it returns the watched list, sorted and deduplicated, `[]` for
 *   an unknown service and before `start()`. `start()` resolves once the bucket's current entries
 *   are loaded.
 * - An entry disappears on its deletion (a graceful stop) or one TTL after its last heartbeat
 *   (a killed instance): the server drops it from the bucket, but says nothing to watchers, so
 *   the discovery expires it itself, checking every quarter TTL.
 * - `watch` listeners are called with the new list only when it changed.
 * - Timers are unref()ed; `close()` stops the watch and the timer (the bucket's connection is
 *   the caller's to close).
 */
export class NatsKvDiscovery implements Discovery {
  readonly #bucket: InstanceBucket;
  readonly #onError: (error: Error) => void;
  readonly #entries = new Map<string, LiveEntry>();
  readonly #lists = new Map<string, string[]>();
  readonly #watchers = new InstanceWatchers();
  #started: Promise<void> | undefined;
  #stopWatch: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(bucket: InstanceBucket, options: NatsKvDiscoveryOptions = {}) {
    this.#bucket = bucket;
    this.#onError = options.onError ?? (() => {});
  }

  /** Starts watching the bucket; resolves once its current entries are loaded. Idempotent. */
  start(): Promise<void> {
    this.#started ??= this.#watch();
    return this.#started;
  }

  instances(service: string): string[] {
    return [...(this.#lists.get(service) ?? [])];
  }

  watch(service: string, listener: InstancesListener): () => void {
    return this.#watchers.add(service, listener);
  }

  /** Every live instance (of one service, or all), with its key and pid: for supervisors and tables. */
  records(service?: string): Array<InstanceRecord & { key: string }> {
    const now = Date.now();
    return [...this.#entries]
      .filter(
        ([, entry]) => entry.expiresAt > now && (service === undefined || entry.record.service === service),
      )
      .map(([key, entry]) => ({ ...entry.record, key }));
  }

  /** Stops the watch, the expiry timer and the notifications. The last lists stay readable. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#stopWatch?.();
    this.#watchers.clear();
  }

  async #watch(): Promise<void> {
    const { kv, ttlMs } = this.#bucket;
    const status = await kv.status();
    const entries = await kv.watch({ key: ">" });
    // Closed while the watch was being set up: stop it, and start no loop or timer.
    if (this.#closed) {
      entries.stop();
      return;
    }
    this.#stopWatch = () => entries.stop();
    let loaded: () => void = () => {};
    const initialLoad = new Promise<void>((resolve) => {
      loaded = resolve;
    });
    // An empty bucket sends nothing until the first put; otherwise the last current entry is the
    // first one flagged as an update.
    if (status.values === 0) loaded();
    void (async () => {
      try {
        for await (const entry of entries) {
          this.#apply(entry);
          if (entry.isUpdate) loaded();
        }
      } catch (error) {
        if (!this.#closed) this.#report(error);
      } finally {
        loaded();
      }
    })();
    this.#timer = setInterval(() => this.#expire(), Math.max(25, Math.floor(ttlMs / 4)));
    this.#timer.unref();
    let limitTimer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      limitTimer = setTimeout(resolve, INITIAL_LOAD_LIMIT_MS);
      limitTimer.unref();
    });
    await Promise.race([initialLoad, limit]);
    clearTimeout(limitTimer);
  }

  #apply(entry: KvWatchEntry): void {
    const previous = this.#entries.get(entry.key);
    if (entry.operation !== "PUT") {
      this.#entries.delete(entry.key);
      if (previous !== undefined) this.#refresh(previous.record.service);
      return;
    }
    let record: InstanceRecord;
    try {
      record = entry.json<InstanceRecord>();
      if (typeof record.url !== "string" || typeof record.service !== "string")
        throw new Error("not a record");
    } catch (error) {
      this.#report(new Error(`instance bucket: ignoring entry ${entry.key}`, { cause: error }));
      return;
    }
    const now = Date.now();
    // A live update is fresh now; an entry loaded at start is as old as the server says (bounded,
    // so a skewed clock can neither keep a dead instance long nor expire a live one at once).
    const age = entry.isUpdate ? 0 : Math.min(Math.max(now - entry.created.getTime(), 0), this.#bucket.ttlMs);
    this.#entries.set(entry.key, { record, expiresAt: now - age + this.#bucket.ttlMs });
    this.#refresh(record.service);
    if (previous !== undefined && previous.record.service !== record.service)
      this.#refresh(previous.record.service);
  }

  #expire(): void {
    const now = Date.now();
    const services = new Set<string>();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) continue;
      this.#entries.delete(key);
      services.add(entry.record.service);
    }
    for (const service of services) this.#refresh(service);
  }

  /** Recomputes a service's list and tells its watchers if it changed. */
  #refresh(service: string): void {
    const urls = new Set<string>();
    for (const entry of this.#entries.values()) {
      if (entry.record.service === service) urls.add(entry.record.url.replace(/\/+$/, ""));
    }
    const list = [...urls].sort();
    const previous = this.#lists.get(service) ?? [];
    if (previous.length === list.length && previous.every((url, index) => url === list[index])) return;
    this.#lists.set(service, list);
    if (this.#closed) return;
    for (const listener of this.#watchers.of(service)) {
      try {
        listener([...list]);
      } catch (error) {
        this.#report(error);
      }
    }
  }

  #report(error: unknown): void {
    try {
      this.#onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // Nobody else to tell.
    }
  }
}
