import { createServer, type Server } from "node:http";
import { NatsKvDiscovery, NatsKvRegistrar, ServiceClient } from "@blossom/client";
import { InstanceBucket } from "@blossom/client/nats";
import { eventually, testAdapters } from "@blossom/testkit";
import { afterEach, describe, expect, it } from "vitest";

/**
 * Discovery for replicas that come and go (`BLOSSOM_DISCOVERY=nats`), on a real NATS JetStream:
 * instances put themselves in a key-value bucket with a heartbeat, watchers keep the lists.
 */
const { natsUrl } = testAdapters();
const TTL_MS = 1_500;
const closers: Array<() => Promise<unknown> | unknown> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function uniquePrefix(): string {
  return `t_kv_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
}

/** A bucket of a fresh prefix, destroyed after the test. */
async function openBucket(prefix: string): Promise<InstanceBucket> {
  const bucket = await InstanceBucket.open({ url: natsUrl, prefix, ttlMs: TTL_MS });
  closers.push(async () => {
    await bucket.destroy().catch(() => {});
    await bucket.close();
  });
  return bucket;
}

/** Another process's view of the same bucket: its own connection. */
async function watcherOn(prefix: string): Promise<NatsKvDiscovery> {
  const bucket = await InstanceBucket.open({ url: natsUrl, prefix, ttlMs: TTL_MS });
  const discovery = new NatsKvDiscovery(bucket);
  closers.push(async () => {
    discovery.close();
    await bucket.close();
  });
  await discovery.start();
  return discovery;
}

async function httpReplica(name: string, hits: Map<string, number>): Promise<string> {
  const server: Server = createServer((_request, response) => {
    hits.set(name, (hits.get(name) ?? 0) + 1);
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ name }));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  closers.push(
    () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  );
  const address = server.address();
  return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe("NATS KV discovery", () => {
  it("lists registered instances per service, sorted, tells watchers, and drops a deregistered one at once", async () => {
    const prefix = uniquePrefix();
    const registrar = new NatsKvRegistrar(await openBucket(prefix));
    const discovery = await watcherOn(prefix);
    const seen: string[][] = [];
    discovery.watch("inventory", (list) => seen.push(list));

    await registrar.register("inventory", "http://127.0.0.1:9002/");
    const second = await registrar.register("inventory", "http://127.0.0.1:9001");
    await registrar.register("users", "http://127.0.0.1:9100");
    await eventually(
      async () =>
        discovery.instances("inventory").length === 2 && discovery.instances("users").length === 1
          ? true
          : undefined,
      5_000,
      "both inventory instances and the users one",
    );
    expect(discovery.instances("inventory")).toEqual(["http://127.0.0.1:9001", "http://127.0.0.1:9002"]);
    expect(discovery.instances("users")).toEqual(["http://127.0.0.1:9100"]);
    expect(discovery.instances("orders")).toEqual([]);
    expect(discovery.records("users")).toEqual([
      expect.objectContaining({ service: "users", url: "http://127.0.0.1:9100", pid: process.pid }),
    ]);

    const deregisteredAt = Date.now();
    await registrar.deregister(second);
    await eventually(
      async () => (discovery.instances("inventory").length === 1 ? true : undefined),
      5_000,
      "the deregistered instance gone",
    );
    // A delete is pushed to watchers: well before the TTL would have expired it.
    expect(Date.now() - deregisteredAt).toBeLessThan(TTL_MS);
    expect(discovery.instances("inventory")).toEqual(["http://127.0.0.1:9002"]);
    expect(seen.at(-1)).toEqual(["http://127.0.0.1:9002"]);
    await registrar.deregister();
  });

  it("loads the instances registered before it started", async () => {
    const prefix = uniquePrefix();
    const registrar = new NatsKvRegistrar(await openBucket(prefix));
    await registrar.register("orders", "http://127.0.0.1:9301");
    await registrar.register("orders", "http://127.0.0.1:9302");
    const late = await watcherOn(prefix);
    // `start()` resolved only after the current entries arrived: no waiting needed.
    expect(late.instances("orders")).toEqual(["http://127.0.0.1:9301", "http://127.0.0.1:9302"]);
    await registrar.deregister();
  });

  it("follows the TTL the bucket was created with, whatever a later open asks for", async () => {
    const prefix = uniquePrefix();
    await openBucket(prefix);
    const later = await InstanceBucket.open({ url: natsUrl, prefix, ttlMs: 60_000 });
    closers.push(() => later.close());
    expect(later.ttlMs).toBe(TTL_MS);
  });

  it("keeps a heartbeating instance past its TTL, and expires one that stopped heartbeating", async () => {
    const prefix = uniquePrefix();
    await openBucket(prefix);
    const discovery = await watcherOn(prefix);
    // The "killed" instance: its own connection, closed without deregistering (as SIGKILL would).
    const doomedBucket = await InstanceBucket.open({ url: natsUrl, prefix, ttlMs: TTL_MS });
    closers.push(() => doomedBucket.close());
    const doomed = new NatsKvRegistrar(doomedBucket);
    await doomed.register("payments", "http://127.0.0.1:9401");
    await eventually(
      async () => (discovery.instances("payments").length === 1 ? true : undefined),
      5_000,
      "the registration",
    );

    await sleep(TTL_MS * 2);
    expect(discovery.instances("payments")).toEqual(["http://127.0.0.1:9401"]);

    await doomedBucket.connection.close();
    const silentSince = Date.now();
    await eventually(
      async () => (discovery.instances("payments").length === 0 ? true : undefined),
      TTL_MS * 4,
      "the silent instance expired",
    );
    const after = Date.now() - silentSince;
    // Not before a heartbeat was missed, and within a TTL plus the expiry check's period.
    expect(after).toBeGreaterThan(TTL_MS / 3);
    expect(after).toBeLessThan(TTL_MS * 2);
  });

  it("lets a ServiceClient balance across live replicas and stop calling one that deregistered", async () => {
    const prefix = uniquePrefix();
    const registrar = new NatsKvRegistrar(await openBucket(prefix));
    const discovery = await watcherOn(prefix);
    const hits = new Map<string, number>();
    const first = await httpReplica("a", hits);
    const second = await httpReplica("b", hits);
    await registrar.register("inventory", first);
    const secondKey = await registrar.register("inventory", second);
    await eventually(
      async () => (discovery.instances("inventory").length === 2 ? true : undefined),
      5_000,
      "two replicas",
    );
    const client = new ServiceClient({ service: "inventory", discovery });
    closers.push(() => client.close());

    for (let call = 0; call < 10; call++) await client.getJson("/anything");
    expect(hits.get("a")).toBe(5);
    expect(hits.get("b")).toBe(5);

    await registrar.deregister(secondKey);
    await eventually(
      async () => (discovery.instances("inventory").length === 1 ? true : undefined),
      5_000,
      "one replica left",
    );
    hits.clear();
    for (let call = 0; call < 6; call++) {
      expect(await client.getJson<{ name: string }>("/anything")).toEqual({ name: "a" });
    }
    expect(hits.get("b")).toBeUndefined();
    await registrar.deregister();
  });
});
