import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type IssuedServiceToken, ServiceTokenProvider, serviceCredential } from "@blossom/auth";
import {
  type Discovery,
  DnsDiscovery,
  type DnsErrorListener,
  type HostResolver,
  type InstancesListener,
  NatsKvDiscovery,
  NatsKvRegistrar,
  parseServiceLocation,
  ServiceClient,
  StaticDiscovery,
} from "@blossom/client";
import type { ServiceClients } from "@blossom/host";
import { CallerClients } from "@blossom/host/clients";
import { propagationHeaders, runWithContext } from "@blossom/runtime";
import { SERVICE_TOKEN_PATH } from "@blossom/users-contracts";

export interface ClientPoolOptions {
  /** The platform secret each service's credential is derived from (`BLOSSOM_SERVICE_SECRET`). */
  serviceSecret: string;
}

/**
 * The process's clients over one discovery: `get(service)` is the shared client without a
 * caller's credential (the gateway forwards its callers' tokens); `forCaller(name)` gives one
 * service its own clients, each carrying that service's token (fetched from users and renewed
 * before it expires). A client per (caller, upstream) keeps each caller's token and breakers
 * its own; in a cluster a process runs one service anyway.
 */
export class ClientPool implements ServiceClients {
  #clients = new Map<string, ServiceClient>();
  #callers = new Map<string, CallerClients>();
  /** The callers' clients, closed with the pool. */
  readonly #owned = new Set<ServiceClient>();
  readonly #options: ClientPoolOptions;

  constructor(
    readonly discovery: Discovery,
    options: ClientPoolOptions,
  ) {
    this.#options = options;
  }

  get(service: string): ServiceClient {
    let client = this.#clients.get(service);
    if (!client) {
      client = this.#client(service);
      this.#clients.set(service, client);
    }
    return client;
  }

  forCaller(caller: string): CallerClients {
    let view = this.#callers.get(caller);
    if (!view) {
      const credential = serviceCredential(this.#options.serviceSecret, caller);
      const credentials = new ServiceTokenProvider({
        // Outside any request's context: one fetch serves many requests, and must carry none of
        // their credentials (the users service ignores a bearer token there anyway).
        fetchToken: () =>
          runWithContext({ requestId: randomUUID(), correlationId: randomUUID() }, () =>
            this.get("users").postJson<IssuedServiceToken>(SERVICE_TOKEN_PATH, {
              service: caller,
              credential,
            }),
          ),
      });
      view = new CallerClients((service) => {
        const client = this.#client(service, credentials);
        this.#owned.add(client);
        return client;
      });
      this.#callers.set(caller, view);
    }
    return view;
  }

  #client(service: string, credentials?: ServiceTokenProvider): ServiceClient {
    return new ServiceClient({
      service,
      discovery: this.discovery,
      headers: () => propagationHeaders(),
      ...(credentials ? { credentials } : {}),
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values(), ...this.#owned].map((client) => client.close()));
  }
}

export interface PlatformDiscoveryOptions {
  /** Delay between DNS refreshes (`BLOSSOM_DNS_REFRESH_MS`). Default 5000 ms. */
  dnsRefreshMs?: number;
  /** Failed DNS lookups (the last good list stays in use), for the log. */
  onDnsError?: DnsErrorListener;
  /** Tests only: replaces the system resolver. */
  resolve?: HostResolver;
  /**
   * `BLOSSOM_DISCOVERY=nats`: every service without an entry in `urls` is found in the instance
   * bucket, where its replicas register themselves. Started by `ready()`, closed by `close()`.
   */
  registry?: NatsKvDiscovery;
}

/**
 * The discovery of a Blossom process: per service, static (a list of URLs) or DNS, as its
 * `<SERVICE>_URL` says. DNS lookups start at construction; `ready()` waits for their first
 * answers, `close()` stops their refresh.
 */
export class PlatformDiscovery implements Discovery {
  readonly #static: StaticDiscovery;
  readonly #dns: DnsDiscovery;
  readonly #registry: NatsKvDiscovery | undefined;
  readonly #configured: ReadonlySet<string>;

  /** @throws TypeError for a malformed URL (see `parseServiceLocation` in @blossom/client). */
  constructor(urls: Readonly<Record<string, string>>, options: PlatformDiscoveryOptions = {}) {
    const staticLists: Record<string, string[]> = {};
    const dnsUrls: Record<string, string> = {};
    for (const [service, value] of Object.entries(urls)) {
      const location = parseServiceLocation(value);
      if (location.kind === "dns") dnsUrls[service] = location.url;
      else staticLists[service] = location.instances;
    }
    this.#static = new StaticDiscovery(staticLists);
    this.#dns = new DnsDiscovery({
      services: dnsUrls,
      ...(options.dnsRefreshMs === undefined ? {} : { refreshMs: options.dnsRefreshMs }),
      ...(options.onDnsError === undefined ? {} : { onError: options.onDnsError }),
      ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
    });
    void this.#dns.start();
    this.#registry = options.registry;
    this.#configured = new Set(Object.keys(urls));
  }

  /** How a service is discovered, e.g. for the start-up log. */
  kindOf(service: string): "static" | "dns" | "nats" {
    if (this.#isRegistered(service)) return "nats";
    return this.#isDns(service) ? "dns" : "static";
  }

  instances(service: string): string[] {
    if (this.#registry && this.#isRegistered(service)) return this.#registry.instances(service);
    return this.#isDns(service) ? this.#dns.instances(service) : this.#static.instances(service);
  }

  watch(service: string, listener: InstancesListener): () => void {
    if (this.#registry && this.#isRegistered(service)) return this.#registry.watch(service, listener);
    return this.#isDns(service) ? this.#dns.watch(service, listener) : this.#static.watch(service, listener);
  }

  /**
   * Replaces the static list of a service (the start command points it at a port known only
   * after listen). @throws TypeError for a service discovered through DNS.
   */
  set(service: string, instances: readonly string[] | string): void {
    if (this.#isDns(service)) throw new TypeError(`${service} is discovered through DNS, not set by hand`);
    if (this.#isRegistered(service))
      throw new TypeError(`${service} registers itself in NATS, not set by hand`);
    this.#static.set(service, instances);
  }

  /**
   * Resolves once every DNS service has had its first answer (or failure), and the instance
   * bucket's current entries are loaded; rejects only if the bucket cannot be watched.
   */
  async ready(): Promise<void> {
    await Promise.all([this.#dns.start(), this.#registry?.start()]);
  }

  /** Stops the DNS refresh and the bucket watch. Idempotent. */
  close(): void {
    this.#dns.close();
    this.#registry?.close();
  }

  /** Found in the instance bucket: `BLOSSOM_DISCOVERY=nats` and no `<SERVICE>_URL` of its own. */
  #isRegistered(service: string): boolean {
    return this.#registry !== undefined && !this.#configured.has(service);
  }

  #isDns(service: string): boolean {
    return this.#dns.services.includes(service);
  }
}

export function platformDiscovery(
  urls: Readonly<Record<string, string>>,
  options: PlatformDiscoveryOptions = {},
): PlatformDiscovery {
  return new PlatformDiscovery(urls, options);
}

/** The instance bucket of a process run with `BLOSSOM_DISCOVERY=nats`: its view and its announcements. */
export interface InstanceRegistry {
  discovery: NatsKvDiscovery;
  registrar: NatsKvRegistrar;
  /** Registers a runnable under the URL it listens on (a wildcard host is replaced by this host's name). */
  register(service: string, listeningUrl: string): Promise<string>;
  /** Deregisters everything still registered, stops the watch and closes the connection. */
  close(): Promise<void>;
}

export interface InstanceRegistryOptions {
  natsUrl: string;
  /** `BLOSSOM_NATS_PREFIX`: the bucket is `<prefix>_instances`. */
  prefix: string;
  /** Connection name, shown by the server's monitoring. */
  name: string;
  /** Failed heartbeats and watch errors, for the log. */
  onError: (error: Error) => void;
}

/** Connects to the instance bucket (creating it if missing) and loads its current entries. */
export async function openInstanceRegistry(options: InstanceRegistryOptions): Promise<InstanceRegistry> {
  // On demand: the embedded default, which has no NATS, never loads the NATS client.
  const { InstanceBucket } = await import("@blossom/client/nats");
  const bucket = await InstanceBucket.open({
    url: options.natsUrl,
    prefix: options.prefix,
    name: `${options.name} (discovery)`,
  });
  const discovery = new NatsKvDiscovery(bucket, { onError: options.onError });
  const registrar = new NatsKvRegistrar(bucket, { onError: options.onError });
  try {
    await discovery.start();
  } catch (error) {
    await bucket.close();
    throw error;
  }
  return {
    discovery,
    registrar,
    register: (service, listeningUrl) => registrar.register(service, advertisedUrl(listeningUrl)),
    async close() {
      await registrar.deregister();
      discovery.close();
      await bucket.close();
    },
  };
}

/** `http://0.0.0.0:8082` is where a server listens, not where others reach it: use the host's name. */
function advertisedUrl(listeningUrl: string): string {
  const url = new URL(listeningUrl);
  if (url.hostname === "0.0.0.0" || url.hostname === "[::]") url.hostname = hostname();
  return url.toString().replace(/\/+$/, "");
}
