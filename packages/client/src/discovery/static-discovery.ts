import type { Discovery, InstancesListener } from "./discovery.js";
import { InstanceWatchers } from "./instance-watchers.js";

/** What `StaticDiscovery` accepts per service: a list, a comma-separated string, or nothing. */
export type StaticInstances = readonly string[] | string | undefined;

/**
 * Parses a comma-separated list of base URLs, as found in an environment variable such as
 * `BLOSSOM_INVENTORY_URLS="http://10.0.0.5:8082, http://10.0.0.6:8082"`.
 *
 * Blank entries are dropped, whitespace is trimmed, trailing slashes are removed and duplicates
 * are kept once (first wins). `undefined` or an empty string gives `[]`.
 *
 * @throws TypeError naming the offending entry when one is not an absolute `http:`/`https:` URL,
 * so a typo in the configuration fails at start-up rather than at the first request.
 */
export function parseInstanceList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return normaliseInstances(value.split(","));
}

/**
 * A `Discovery` backed by a fixed map, for local runs, tests and deployments where the
 * addresses come from configuration: `new StaticDiscovery({ users: ["http://127.0.0.1:8081"] })`
 * or `new StaticDiscovery({ users: process.env.BLOSSOM_USERS_URLS })`.
 *
 * `set` replaces a service's list at runtime and notifies its watchers synchronously.
 *
 * @throws TypeError from the constructor or `set` when an entry is not an http(s) URL.
 */
export class StaticDiscovery implements Discovery {
  readonly #services = new Map<string, string[]>();
  readonly #watchers = new InstanceWatchers();

  constructor(services: Readonly<Record<string, StaticInstances>> = {}) {
    for (const [service, instances] of Object.entries(services)) {
      this.#services.set(service, toList(instances));
    }
  }

  instances(service: string): string[] {
    return [...(this.#services.get(service) ?? [])];
  }

  watch(service: string, listener: InstancesListener): () => void {
    return this.#watchers.add(service, listener);
  }

  /** Replaces the instances of one service and tells its watchers. */
  set(service: string, instances: StaticInstances): void {
    const list = toList(instances);
    this.#services.set(service, list);
    for (const listener of this.#watchers.of(service)) listener([...list]);
  }
}

function toList(instances: StaticInstances): string[] {
  if (instances === undefined) return [];
  return typeof instances === "string" ? parseInstanceList(instances) : normaliseInstances(instances);
}

function normaliseInstances(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === "") continue;
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new TypeError(`"${entry}" is not a valid instance URL (expected e.g. http://127.0.0.1:8081)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`"${entry}" is not an http(s) instance URL`);
    }
    if (url.search !== "" || url.hash !== "") {
      throw new TypeError(`"${entry}": an instance URL cannot carry a query or a fragment`);
    }
    seen.add(entry.replace(/\/+$/, ""));
  }
  return [...seen];
}
