import { promises as dns } from "node:dns";
import { isIP } from "node:net";
import type { Discovery, InstancesListener } from "./discovery.js";
import { InstanceWatchers } from "./instance-watchers.js";

/**
 * Resolves a host name to IP addresses (v4 and/or v6), in any order, duplicates allowed.
 * Rejects when the name does not resolve.
 */
export type HostResolver = (host: string) => Promise<readonly string[]>;

/** Told about every failed refresh; the previous list of the service stays in use. */
export type DnsErrorListener = (service: string, error: Error) => void;

export interface DnsDiscoveryOptions {
  /**
   * Per service, the URL whose host name is resolved, e.g. `{ inventory:
   * "http://inventory.blossom.svc.cluster.local:8082" }` (a Kubernetes headless service): each
   * address the name resolves to gives one instance with the same scheme, port and path prefix.
   */
  services: Readonly<Record<string, string>>;
  /** Delay between background refreshes. Default 5000 ms. */
  refreshMs?: number;
  /**
   * The lookup. Default: `dns.promises.lookup(host, { all: true })`, i.e. getaddrinfo, which
   * honours /etc/hosts and the resolv.conf search domains (so the short Kubernetes name
   * `inventory.blossom.svc` works inside a pod) and returns both A and AAAA answers.
   */
  resolve?: HostResolver;
  /** Failed lookups and throwing listeners, for logging; the discovery itself never logs. */
  onError?: DnsErrorListener;
}

export const DEFAULT_DNS_REFRESH_MS = 5000;

/** A service's resolvable URL, split into what is resolved and what every instance keeps. */
interface DnsTarget {
  host: string;
  /** `http:` or `https:` */
  protocol: string;
  /** `:8082`, or "" for the scheme's default port. */
  port: string;
  /** Path prefix without trailing slash, or "". */
  path: string;
}

/**
 * Checks a URL given to `DnsDiscovery` (same rules as a static instance URL: http(s), no query,
 * fragment or credentials) and returns it without trailing slashes.
 * @throws TypeError naming the URL when it is not usable.
 */
export function parseDnsServiceUrl(value: string): string {
  parseTarget(value);
  return value.trim().replace(/\/+$/, "");
}

/**
 * A `Discovery` that resolves a host name per service through DNS and lists one instance per
 * address: a Kubernetes headless service (`clusterIP: None`) answers with the IP of every ready
 * pod, so replicas are balanced by the client instead of by kube-proxy's per-connection choice
 * (which pins each keep-alive connection, hence most traffic, to one pod).
 *
 * Guarantees:
 * - `instances` is synchronous: it returns the cached list, sorted and deduplicated (so a
 *   change is a change of content, never of order), `[]` before the first answer and for an
 *   unknown service. The first call of `instances` or `watch` starts the discovery if `start`
 *   was not called; await `start()` to have the first answers before serving.
 * - Every service is looked up again `refreshMs` after the previous round ended (never two
 *   lookups of one service at once), and on demand with `refresh()`.
 * - A failed lookup, or one with no usable address, keeps the last good list (an instance that
 *   is really gone is ejected by its circuit breaker) and is reported to `onError`.
 * - `watch` listeners are called with the new list only when it changed.
 * - The timer is unref()ed: the discovery never keeps the process alive; `close()` stops it.
 */
export class DnsDiscovery implements Discovery {
  readonly #targets = new Map<string, DnsTarget>();
  readonly #lists = new Map<string, string[]>();
  readonly #watchers = new InstanceWatchers();
  readonly #lookups = new Map<string, Promise<void>>();
  readonly #refreshMs: number;
  readonly #resolve: HostResolver;
  readonly #onError: DnsErrorListener;
  #started: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** @throws TypeError for a service URL that is not http(s), RangeError for a bad `refreshMs`. */
  constructor(options: DnsDiscoveryOptions) {
    for (const [service, url] of Object.entries(options.services)) {
      try {
        this.#targets.set(service, parseTarget(url));
      } catch (error) {
        throw new TypeError(`DnsDiscovery(${service}): ${(error as Error).message}`);
      }
    }
    this.#refreshMs = options.refreshMs ?? DEFAULT_DNS_REFRESH_MS;
    if (!(Number.isFinite(this.#refreshMs) && this.#refreshMs > 0)) {
      throw new RangeError(`DnsDiscovery: refreshMs must be > 0, got ${this.#refreshMs}`);
    }
    this.#resolve = options.resolve ?? lookupAll;
    this.#onError = options.onError ?? (() => {});
  }

  /** The services this discovery resolves. */
  get services(): string[] {
    return [...this.#targets.keys()];
  }

  /**
   * Looks every service up once, then keeps refreshing in the background. Resolves when every
   * first lookup has answered, successfully or not (failures go to `onError`); never rejects.
   * Idempotent.
   */
  start(): Promise<void> {
    this.#started ??= this.refresh().then(() => this.#schedule());
    return this.#started;
  }

  instances(service: string): string[] {
    if (this.#started === undefined && this.#targets.has(service)) void this.start();
    return [...(this.#lists.get(service) ?? [])];
  }

  watch(service: string, listener: InstancesListener): () => void {
    if (this.#started === undefined && this.#targets.has(service)) void this.start();
    return this.#watchers.add(service, listener);
  }

  /**
   * Looks one service (or all of them) up now, joining a lookup already in flight. Resolves when
   * done; never rejects. After `close()` it does nothing.
   */
  async refresh(service?: string): Promise<void> {
    const services = service === undefined ? this.services : [service];
    await Promise.all(services.map((name) => this.#refreshOne(name)));
  }

  /** Stops the background refresh and the notifications. The last lists stay readable. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watchers.clear();
  }

  #schedule(): void {
    // Nothing to look up (a process whose services are all static): no timer at all.
    if (this.#closed || this.#targets.size === 0) return;
    this.#timer = setTimeout(() => {
      void this.refresh().then(() => this.#schedule());
    }, this.#refreshMs);
    this.#timer.unref();
  }

  #refreshOne(service: string): Promise<void> {
    const target = this.#targets.get(service);
    if (target === undefined || this.#closed) return Promise.resolve();
    let lookup = this.#lookups.get(service);
    if (lookup === undefined) {
      lookup = this.#lookup(service, target).finally(() => this.#lookups.delete(service));
      this.#lookups.set(service, lookup);
    }
    return lookup;
  }

  async #lookup(service: string, target: DnsTarget): Promise<void> {
    let urls: string[];
    try {
      urls = toInstanceUrls(target, await this.#resolve(target.host));
      if (urls.length === 0) throw new Error("no usable address in the answer");
    } catch (error) {
      // Closed meanwhile: a lookup that was already under way reports nothing.
      if (this.#closed) return;
      const kept = this.#lists.get(service)?.length ?? 0;
      const reason = error instanceof Error ? error.message : String(error);
      this.#report(
        service,
        new Error(
          `${service}: DNS lookup of "${target.host}" failed (${reason}); keeping ${kept} instances`,
          {
            cause: error,
          },
        ),
      );
      return;
    }
    if (this.#closed) return;
    const previous = this.#lists.get(service);
    if (previous !== undefined && sameList(previous, urls)) return;
    this.#lists.set(service, urls);
    for (const listener of this.#watchers.of(service)) {
      try {
        listener([...urls]);
      } catch (error) {
        // Runs on a timer: a throw here would be an unhandled rejection.
        this.#report(service, error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  #report(service: string, error: Error): void {
    try {
      this.#onError(service, error);
    } catch {
      // A failing error reporter must not stop the refresh loop; there is nobody else to tell.
    }
  }
}

async function lookupAll(host: string): Promise<string[]> {
  const answers = await dns.lookup(host, { all: true });
  return answers.map((answer) => answer.address);
}

function parseTarget(value: string): DnsTarget {
  const entry = value.trim();
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new TypeError(`"${entry}" is not a valid URL (expected e.g. http://inventory.blossom.svc:8082)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`"${entry}" is not an http(s) URL`);
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new TypeError(`"${entry}": a service URL cannot carry a query, a fragment or credentials`);
  }
  return {
    // An IPv6 literal comes bracketed from URL; the resolver wants it bare.
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    protocol: url.protocol,
    port: url.port === "" ? "" : `:${url.port}`,
    path: url.pathname.replace(/\/+$/, ""),
  };
}

/** Sorted, deduplicated base URLs, one per usable address. */
function toInstanceUrls(target: DnsTarget, addresses: readonly string[]): string[] {
  const urls = new Set<string>();
  for (const address of addresses) {
    const family = isIP(address);
    // Zoned IPv6 addresses (fe80::1%eth0) are valid for isIP but not in a URL; skip them.
    if (family === 0 || address.includes("%")) continue;
    const host = family === 6 ? `[${address}]` : address;
    urls.add(`${target.protocol}//${host}${target.port}${target.path}`);
  }
  return [...urls].sort();
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((entry, index) => entry === b[index]);
}
