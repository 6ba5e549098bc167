import { promises as dns } from "node:dns";
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { DnsDiscovery, type DnsDiscoveryOptions } from "./discovery/dns-discovery.js";
import { ServiceClient } from "./service-client.js";

interface Replicas {
  port: number;
  /** Requests served, per listening address. */
  hits: Map<string, number>;
}

const servers: Server[] = [];
const closers: { close(): unknown }[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((closer) => closer.close()));
  await Promise.all(servers.splice(0).map(closeServer));
});

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((done) => server.close(() => done()));
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    });
  });
}

/**
 * One real HTTP server per address, all on the same port (as the pods behind a headless
 * service), each answering with the address it listens on and counting its requests.
 */
async function replicasOn(addresses: readonly string[]): Promise<Replicas> {
  for (let attempt = 0; ; attempt++) {
    const hits = new Map(addresses.map((address) => [address, 0]));
    const started: Server[] = [];
    try {
      let port = 0;
      for (const address of addresses) {
        const server = createServer((_request, response) => {
          hits.set(address, (hits.get(address) ?? 0) + 1);
          response.setHeader("content-type", "application/json");
          response.end(JSON.stringify({ address }));
        });
        started.push(server);
        port = await listen(server, port, address);
      }
      servers.push(...started);
      return { port, hits };
    } catch (error) {
      // The ephemeral port of the first address may be taken on another one: try another port.
      await Promise.all(started.filter((server) => server.listening).map(closeServer));
      if (attempt >= 5) throw error;
    }
  }
}

function inventoryClient(options: Omit<DnsDiscoveryOptions, "services"> & { url: string }): {
  discovery: DnsDiscovery;
  client: ServiceClient;
} {
  const { url, ...rest } = options;
  const discovery = new DnsDiscovery({ services: { inventory: url }, ...rest });
  const client = new ServiceClient({
    service: "inventory",
    discovery,
    retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 10 },
    breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
  });
  closers.push(client, discovery);
  return { discovery, client };
}

async function callMany(client: ServiceClient, count: number): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < count; i++) answers.push((await client.getJson<{ address: string }>("/who")).address);
  return answers;
}

describe("ServiceClient over DnsDiscovery", () => {
  it("spreads requests over every address the real resolver gives for localhost", async () => {
    const addresses = [
      ...new Set((await dns.lookup("localhost", { all: true })).map((entry) => entry.address)),
    ];
    const replicas = await replicasOn(addresses);
    const { discovery, client } = inventoryClient({ url: `http://localhost:${replicas.port}` });
    await discovery.start();

    const answers = await callMany(client, 2 * addresses.length);

    expect(new Set(answers)).toEqual(new Set(addresses));
    for (const address of addresses) expect(replicas.hits.get(address), address).toBe(2);
  });

  it("spreads requests over IPv4 and IPv6 replicas, round-robin", async () => {
    const addresses = ["127.0.0.1", "127.0.0.2", "::1"];
    const replicas = await replicasOn(addresses);
    const { discovery, client } = inventoryClient({
      url: `http://inventory.blossom.svc:${replicas.port}`,
      resolve: async () => ["::1", "127.0.0.2", "127.0.0.1", "127.0.0.2"],
    });
    await discovery.start();

    const answers = await callMany(client, 6);

    // Sorted list: 127.0.0.1, 127.0.0.2, [::1]; each twice, in turn.
    expect(answers).toEqual(["127.0.0.1", "127.0.0.2", "::1", "127.0.0.1", "127.0.0.2", "::1"]);
    expect(client.stats().instances.map((instance) => instance.instance)).toEqual([
      `http://127.0.0.1:${replicas.port}`,
      `http://127.0.0.2:${replicas.port}`,
      `http://[::1]:${replicas.port}`,
    ]);
  });

  it("follows a scale-up and ejects a resolved address where nothing answers", async () => {
    const replicas = await replicasOn(["127.0.0.1", "127.0.0.2"]);
    let answer = ["127.0.0.1"];
    const { discovery, client } = inventoryClient({
      url: `http://inventory.blossom.svc:${replicas.port}`,
      resolve: async () => answer,
    });
    await discovery.start();
    expect(await callMany(client, 2)).toEqual(["127.0.0.1", "127.0.0.1"]);

    // Scale-up: a new replica, and a stale record of a pod that is gone (nothing on 127.0.0.3).
    answer = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
    await discovery.refresh();
    const answers = await callMany(client, 9);

    expect(new Set(answers)).toEqual(new Set(["127.0.0.1", "127.0.0.2"]));
    const dead = client.stats().instances.find((instance) => instance.instance.includes("127.0.0.3"));
    expect(dead).toMatchObject({ breaker: "open", attempts: 2, failures: 2 });
  });
});
