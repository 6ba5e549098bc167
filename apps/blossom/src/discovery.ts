import { parseInstanceList, ServiceClient, StaticDiscovery } from "@blossom/client";
import type { ServiceClients } from "@blossom/host";
import { propagationHeaders } from "@blossom/runtime";

/** One resilient client per upstream, shared by all services of the process, over one discovery. */
export class ClientPool implements ServiceClients {
  #clients = new Map<string, ServiceClient>();
  constructor(readonly discovery: StaticDiscovery) {}

  get(service: string): ServiceClient {
    let client = this.#clients.get(service);
    if (!client) {
      client = new ServiceClient({ service, discovery: this.discovery, headers: () => propagationHeaders() });
      this.#clients.set(service, client);
    }
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => client.close()));
  }
}

export function staticDiscovery(urls: Record<string, string>): StaticDiscovery {
  return new StaticDiscovery(
    Object.fromEntries(Object.entries(urls).map(([service, value]) => [service, parseInstanceList(value)])),
  );
}
