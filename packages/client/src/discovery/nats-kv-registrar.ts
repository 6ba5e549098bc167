import { randomBytes } from "node:crypto";
import type { InstanceBucket, InstanceRecord } from "./instance-bucket.js";

export interface NatsKvRegistrarOptions {
  /** How often each registration is put again. Default a third of the bucket's TTL. */
  heartbeatMs?: number;
  /** Failed puts and deletes, for logging; the registrar itself never logs. */
  onError?: (error: Error) => void;
}

/** A service name as it appears in a key: one token of a NATS subject. */
const SERVICE_TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Announces the instances a process runs in the instance bucket: `register(service, url)` puts
 * `<service>.<pid>-<random>` = `{service, url, pid, started}` at once and again every
 * `heartbeatMs`, so that an instance that dies without a word (SIGKILL, a lost host) drops out
 * of every watcher's list one TTL after its last heartbeat; `deregister()` deletes the keys at
 * once, for a graceful stop (call it before draining, so callers stop choosing this instance).
 *
 * Heartbeat timers are unref()ed: a registrar never keeps the process alive.
 */
export class NatsKvRegistrar {
  readonly #bucket: InstanceBucket;
  readonly #heartbeatMs: number;
  readonly #onError: (error: Error) => void;
  readonly #records = new Map<string, InstanceRecord>();
  /** Heartbeat puts on the wire: a delete must follow them, or a late put would revive the key. */
  readonly #inFlight = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;

  /** @throws RangeError for a heartbeat that would let entries expire between two puts. */
  constructor(bucket: InstanceBucket, options: NatsKvRegistrarOptions = {}) {
    this.#bucket = bucket;
    this.#heartbeatMs = options.heartbeatMs ?? Math.floor(bucket.ttlMs / 3);
    if (!(this.#heartbeatMs > 0 && this.#heartbeatMs < bucket.ttlMs)) {
      throw new RangeError(
        `NatsKvRegistrar: heartbeatMs must be > 0 and < the TTL (${bucket.ttlMs} ms), got ${this.#heartbeatMs}`,
      );
    }
    this.#onError = options.onError ?? (() => {});
  }

  /** The keys this registrar keeps alive. */
  get keys(): string[] {
    return [...this.#records.keys()];
  }

  /**
   * Puts the instance now (resolves once the server stored it) and keeps it alive. Returns its key.
   * @throws TypeError for a service name that is not one subject token.
   */
  async register(service: string, url: string): Promise<string> {
    if (!SERVICE_TOKEN.test(service)) throw new TypeError(`invalid service name ${JSON.stringify(service)}`);
    const key = `${service}.${process.pid}-${randomBytes(4).toString("hex")}`;
    const record: InstanceRecord = { service, url, pid: process.pid, started: new Date().toISOString() };
    await this.#bucket.kv.put(key, JSON.stringify(record));
    this.#records.set(key, record);
    this.#schedule();
    return key;
  }

  /** Deletes every registration (or the one `key`) and stops its heartbeat. Never rejects. */
  async deregister(key?: string): Promise<void> {
    const keys = key === undefined ? this.keys : [key];
    for (const one of keys) this.#records.delete(one);
    if (this.#records.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    await Promise.allSettled([...this.#inFlight]);
    await Promise.all(
      keys.map((one) => this.#bucket.kv.delete(one).catch((error: unknown) => this.#report(error))),
    );
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      for (const [key, record] of this.#records) {
        const put = this.#bucket.kv
          .put(key, JSON.stringify(record))
          .catch((error: unknown) => this.#report(error))
          .finally(() => this.#inFlight.delete(put));
        this.#inFlight.add(put);
      }
    }, this.#heartbeatMs);
    this.#timer.unref();
  }

  #report(error: unknown): void {
    try {
      this.#onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // A failing reporter must not stop the heartbeats.
    }
  }
}
