import type { IncomingHttpHeaders } from "node:http";
import { createServer } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import type { ServiceClientOptions } from "./client-options.js";
import { StaticDiscovery } from "./discovery/static-discovery.js";
import {
  isUpstreamAbortedError,
  isUpstreamError,
  isUpstreamHttpError,
  isUpstreamProtocolError,
  isUpstreamTimeoutError,
  isUpstreamUnavailableError,
  UpstreamHttpError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from "./errors.js";
import { ServiceClient } from "./service-client.js";

interface RecordedCall {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

interface TestUpstream {
  url: string;
  calls: RecordedCall[];
}

const servers: FastifyInstance[] = [];
const clients: ServiceClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A real Fastify upstream on an ephemeral port, recording every call it receives. */
async function startUpstream(register: (app: FastifyInstance) => void): Promise<TestUpstream> {
  const app = Fastify({ forceCloseConnections: true });
  const calls: RecordedCall[] = [];
  app.addHook("onRequest", async (request) => {
    calls.push({ method: request.method, url: request.url, headers: request.headers });
  });
  register(app);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  servers.push(app);
  return { url, calls };
}

/** A URL on which nothing listens: bind an ephemeral port, then release it. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

function client(
  instances: string[],
  options: Partial<Omit<ServiceClientOptions, "discovery">> = {},
): ServiceClient {
  const created = new ServiceClient({
    service: "inventory",
    discovery: new StaticDiscovery({ inventory: instances }),
    retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 10 },
    ...options,
  });
  clients.push(created);
  return created;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

const problem = (status: number, title: string) =>
  JSON.stringify({ type: "about:blank", title, status, detail: `${title} (test)` });

describe("ServiceClient", () => {
  it("balances round-robin across the instances discovery lists", async () => {
    const a = await startUpstream((app) => app.get("/who", async () => ({ name: "a" })));
    const b = await startUpstream((app) => app.get("/who", async () => ({ name: "b" })));
    const inventory = client([a.url, b.url]);

    const names: string[] = [];
    for (let i = 0; i < 4; i++) names.push((await inventory.getJson<{ name: string }>("/who")).name);

    expect(names).toEqual(["a", "b", "a", "b"]);
    expect(a.calls).toHaveLength(2);
    expect(b.calls).toHaveLength(2);
  });

  it("retries a GET after a 503 on the other instance", async () => {
    const a = await startUpstream((app) =>
      app.get("/items/1", async (_request, reply) => reply.code(503).send({ error: "overloaded" })),
    );
    const b = await startUpstream((app) => app.get("/items/1", async () => ({ id: 1 })));
    const inventory = client([a.url, b.url]);

    const response = await inventory.request({ method: "GET", path: "/items/1" });

    expect(response).toMatchObject({ status: 200, body: { id: 1 }, instance: b.url });
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(1);
  });

  it("does not retry a POST without an idempotency key on 503", async () => {
    const upstream = await startUpstream((app) =>
      app.post("/reservations", async (_request, reply) => reply.code(503).send({ error: "overloaded" })),
    );
    const inventory = client([upstream.url]);

    const error = await rejection(inventory.postJson("/reservations", { sku: "tulip", qty: 1 }));

    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect(error).toMatchObject({
      status: 503,
      retryable: true,
      upstream: "inventory",
      instance: upstream.url,
    });
    expect(upstream.calls).toHaveLength(1);
  });

  it("retries a POST that carries an Idempotency-Key", async () => {
    let calls = 0;
    const upstream = await startUpstream((app) =>
      app.post("/reservations", async (_request, reply) => {
        calls++;
        return calls === 1
          ? reply.code(503).send({ error: "overloaded" })
          : reply.code(201).send({ id: "r-1" });
      }),
    );
    const inventory = client([upstream.url]);

    const created = await inventory.postJson<{ id: string }>(
      "/reservations",
      { sku: "tulip", qty: 1 },
      { idempotencyKey: "order-42" },
    );

    expect(created).toEqual({ id: "r-1" });
    expect(upstream.calls).toHaveLength(2);
    expect(upstream.calls.map((call) => call.headers["idempotency-key"])).toEqual(["order-42", "order-42"]);
  });

  it("times out in about timeoutMs and names the upstream and instance", async () => {
    const upstream = await startUpstream((app) =>
      app.get("/slow", async () => {
        await new Promise((resolve) => setTimeout(resolve, 3000).unref());
        return { late: true };
      }),
    );
    const inventory = client([upstream.url], { timeoutMs: 150, retry: { maxAttempts: 1 } });

    const started = performance.now();
    const error = await rejection(inventory.getJson("/slow"));
    const elapsed = performance.now() - started;

    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    expect(isUpstreamTimeoutError(error)).toBe(true);
    expect((error as UpstreamTimeoutError).message).toBe(
      `inventory (${upstream.url}) did not answer within 150 ms`,
    );
    expect(error).toMatchObject({ code: "UPSTREAM_TIMEOUT", retryable: true, timeoutMs: 150 });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1000);
  });

  it("retries a GET that timed out elsewhere, without counting the timeout against the slow instance", async () => {
    const slow = await startUpstream((app) =>
      app.get("/stock", async () => {
        await new Promise((resolve) => setTimeout(resolve, 3000).unref());
        return { stock: 0 };
      }),
    );
    const fast = await startUpstream((app) => app.get("/stock", async () => ({ stock: 1 })));
    const inventory = client([slow.url, fast.url], { timeoutMs: 100 });

    expect(await inventory.getJson("/stock")).toEqual({ stock: 1 });
    // Slow is not down: a saturated instance's timeouts never eject it (see countsAgainstInstance).
    expect(inventory.stats().instances[0]).toMatchObject({ instance: slow.url, attempts: 1, failures: 0 });
  });

  it("opens the breaker after N failures, fails fast, then half-opens and closes on success", async () => {
    let healthy = false;
    const upstream = await startUpstream((app) =>
      app.get("/stock", async (_request, reply) =>
        healthy ? { stock: 7 } : reply.code(500).send({ error: "boom" }),
      ),
    );
    const inventory = client([upstream.url], {
      retry: { maxAttempts: 1 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 200 },
    });

    for (let i = 0; i < 3; i++)
      expect(await rejection(inventory.getJson("/stock"))).toMatchObject({ status: 500 });
    expect(inventory.breakerState(upstream.url)).toBe("open");
    expect(inventory.breakerState()).toBe("open");

    const started = performance.now();
    const error = await rejection(inventory.getJson("/stock"));
    expect(performance.now() - started).toBeLessThan(50);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ reason: "all-circuits-open", upstream: "inventory" });
    expect(upstream.calls).toHaveLength(3);

    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(inventory.breakerState()).toBe("half-open");
    expect(await inventory.getJson("/stock")).toEqual({ stock: 7 });
    expect(upstream.calls).toHaveLength(4);
    expect(inventory.breakerState(upstream.url)).toBe("closed");
    expect(inventory.breakerState()).toBe("closed");
  });

  it("re-opens the breaker when the trial call fails", async () => {
    const upstream = await startUpstream((app) =>
      app.get("/stock", async (_request, reply) => reply.code(502).send({ error: "bad gateway" })),
    );
    const inventory = client([upstream.url], {
      retry: { maxAttempts: 1 },
      breaker: { consecutiveFailures: 1, halfOpenAfterMs: 100 },
    });

    await rejection(inventory.getJson("/stock"));
    await new Promise((resolve) => setTimeout(resolve, 130));
    expect(await rejection(inventory.getJson("/stock"))).toMatchObject({ status: 502 });
    expect(await rejection(inventory.getJson("/stock"))).toMatchObject({ reason: "all-circuits-open" });
    expect(upstream.calls).toHaveLength(2);
  });

  it("skips an instance whose breaker is open while the other one serves", async () => {
    const a = await startUpstream((app) =>
      app.get("/stock", async (_request, reply) => reply.code(503).send({ error: "down" })),
    );
    const b = await startUpstream((app) => app.get("/stock", async () => ({ stock: 3 })));
    const inventory = client([a.url, b.url], {
      breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
    });

    // Every call succeeds (the 503s are retried on b) while a accumulates failures, then is ejected.
    for (let i = 0; i < 6; i++) expect(await inventory.getJson("/stock")).toEqual({ stock: 3 });

    expect(a.calls).toHaveLength(2);
    expect(b.calls).toHaveLength(6);
    const stats = inventory.stats();
    expect(stats.state).toBe("closed");
    expect(stats.instances).toEqual([
      expect.objectContaining({
        instance: a.url,
        breaker: "open",
        acceptsCalls: false,
        attempts: 2,
        failures: 2,
      }),
      expect.objectContaining({
        instance: b.url,
        breaker: "closed",
        acceptsCalls: true,
        attempts: 6,
        failures: 0,
      }),
    ]);
  });

  it("does not share breakers between two clients", async () => {
    const upstream = await startUpstream((app) =>
      app.get("/stock", async (_request, reply) => reply.code(500).send({ error: "boom" })),
    );
    const tight = client([upstream.url], { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1 } });
    const other = client([upstream.url], { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1 } });

    await rejection(tight.getJson("/stock"));
    expect(tight.breakerState()).toBe("open");
    expect(other.breakerState()).toBe("closed");
    expect(await rejection(other.getJson("/stock"))).toMatchObject({ status: 500 });
    expect(upstream.calls).toHaveLength(2);
  });

  it("counts its capacity as connections (or fewer if asked) per instance taking calls, and never less than one instance's worth", async () => {
    const deadA = await deadUrl();
    let deadB = await deadUrl();
    while (deadB === deadA) deadB = await deadUrl();
    const live = await startUpstream((app) => app.get("/stock", async () => ({ stock: 3 })));
    const breaker = { consecutiveFailures: 1, halfOpenAfterMs: 60_000 };
    const inventory = client([deadA, live.url], { connections: 4, breaker });
    expect(inventory.capacity()).toBe(8);
    // A caller that sends an instance fewer at once than its connections (the gateway's queue).
    expect(inventory.capacity(3)).toBe(6);
    expect(inventory.capacity(16)).toBe(8);

    // Round-robin sends one of two calls to deadA: the refused connection opens its breaker (and
    // the call is retried on the live instance).
    for (let i = 0; i < 2; i++) expect(await inventory.getJson("/stock")).toEqual({ stock: 3 });
    expect(inventory.breakerState(deadA)).toBe("open");
    expect(inventory.capacity()).toBe(4);
    expect(inventory.capacity(3)).toBe(3);

    const nowhere = client([deadA, deadB], { connections: 4, breaker });
    expect(nowhere.capacity()).toBe(8);
    expect(await rejection(nowhere.getJson("/stock"))).toBeInstanceOf(UpstreamUnavailableError);
    expect(nowhere.breakerState()).toBe("open");
    expect(nowhere.capacity()).toBe(4);
  });

  it("reports a refused connection as UpstreamUnavailableError", async () => {
    const dead = await deadUrl();
    const inventory = client([dead]);

    const error = await rejection(inventory.getJson("/stock"));

    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(isUpstreamUnavailableError(error)).toBe(true);
    expect(error).toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      reason: "connect-failed",
      upstream: "inventory",
      instance: dead,
      retryable: true,
    });
    expect((error as Error).message).toContain(`inventory (${dead})`);
    expect((error as Error).message).toContain("ECONNREFUSED");
    expect(inventory.stats().instances[0]).toMatchObject({ attempts: 3, failures: 3 });
  });

  it("retries even a POST on another instance when the connection was refused (nothing was sent)", async () => {
    const dead = await deadUrl();
    const live = await startUpstream((app) =>
      app.post("/reservations", async (_request, reply) => reply.code(201).send({ id: "r-2" })),
    );
    const inventory = client([dead, live.url]);

    expect(await inventory.postJson("/reservations", { sku: "rose" })).toEqual({ id: "r-2" });
    expect(live.calls).toHaveLength(1);
  });

  it("ejects a dead instance once its breaker opens, and tries it again after the half-open delay", async () => {
    const dead = await deadUrl();
    const live = await startUpstream((app) => app.get("/stock", async () => ({ stock: 3 })));
    const inventory = client([dead, live.url], { breaker: { consecutiveFailures: 2, halfOpenAfterMs: 200 } });
    const deadStats = () => inventory.stats().instances.find((instance) => instance.instance === dead);

    // Every call succeeds: the refused connections are retried on the live instance.
    for (let i = 0; i < 6; i++) expect(await inventory.getJson("/stock")).toEqual({ stock: 3 });
    expect(deadStats()).toMatchObject({ breaker: "open", acceptsCalls: false, attempts: 2, failures: 2 });
    expect(live.calls).toHaveLength(6);

    // Ejected: while the breaker is open nothing is sent to the dead instance.
    for (let i = 0; i < 4; i++) expect(await inventory.getJson("/stock")).toEqual({ stock: 3 });
    expect(deadStats()).toMatchObject({ attempts: 2 });
    expect(live.calls).toHaveLength(10);

    // After the delay one trial call goes there; it fails, the breaker re-opens, the call still succeeds.
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(deadStats()).toMatchObject({ acceptsCalls: true });
    for (let i = 0; i < 2; i++) expect(await inventory.getJson("/stock")).toEqual({ stock: 3 });
    expect(deadStats()).toMatchObject({ breaker: "open", attempts: 3, failures: 3 });

    // The instance comes back on its port: the next trial call closes its breaker, it serves again.
    const revived = Fastify({ forceCloseConnections: true });
    revived.get("/stock", async () => ({ stock: 4 }));
    await revived.listen({ port: Number(new URL(dead).port), host: "127.0.0.1" });
    servers.push(revived);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const stocks: unknown[] = [];
    for (let i = 0; i < 4; i++) stocks.push(await inventory.getJson("/stock"));
    expect(stocks).toContainEqual({ stock: 4 });
    expect(deadStats()).toMatchObject({ breaker: "closed", acceptsCalls: true });
  });

  it("gives the callee a time budget shorter than its own wait, and never more than its caller left", async () => {
    const upstream = await startUpstream((app) => app.get("/stock", async () => ({ stock: 1 })));
    let inherited: string | undefined;
    const inventory = client([upstream.url], {
      timeoutMs: 2000,
      headers: () => (inherited === undefined ? {} : { "x-request-timeout": inherited }),
    });
    await inventory.getJson("/stock");
    await inventory.getJson("/stock", { timeoutMs: 10_000 });
    inherited = "700";
    await inventory.getJson("/stock");
    inherited = "not a number";
    await inventory.getJson("/stock", { timeoutMs: 300 });
    expect(upstream.calls.map((call) => call.headers["x-request-timeout"])).toEqual([
      "1600",
      "8000",
      "700",
      "200",
    ]);
  });

  it("sends the propagated headers, JSON headers and the query string", async () => {
    let hookCalls = 0;
    const upstream = await startUpstream((app) =>
      app.post("/echo", async (request) => ({ query: request.query, body: request.body })),
    );
    const inventory = client([upstream.url], {
      headers: () => {
        hookCalls++;
        return {
          traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
          "X-Correlation-Id": "corr-1",
          authorization: "Bearer service-token",
          "x-absent": undefined,
        };
      },
    });

    const answer = await inventory.postJson(
      "/echo",
      { hello: "world" },
      { query: { sku: ["a", "b"], limit: 5, skipped: undefined }, headers: { "x-correlation-id": "corr-2" } },
    );

    expect(answer).toEqual({ query: { sku: ["a", "b"], limit: "5" }, body: { hello: "world" } });
    expect(hookCalls).toBe(1);
    const [call] = upstream.calls;
    expect(call?.url).toBe("/echo?sku=a&sku=b&limit=5");
    expect(call?.headers).toMatchObject({
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      "x-correlation-id": "corr-2",
      authorization: "Bearer service-token",
      accept: "application/json",
      "content-type": "application/json",
    });
    expect(call?.headers["x-absent"]).toBeUndefined();
    expect(call?.headers["idempotency-key"]).toBeUndefined();
  });

  it("surfaces a 4xx as UpstreamHttpError with the problem body, without retry or breaker failure", async () => {
    const upstream = await startUpstream((app) =>
      app.get("/items/:id", async (_request, reply) =>
        reply.code(404).type("application/problem+json").send(problem(404, "Item not found")),
      ),
    );
    const inventory = client([upstream.url], { breaker: { consecutiveFailures: 2 } });

    const error = await rejection(inventory.getJson("/items/9"));

    expect(isUpstreamHttpError(error)).toBe(true);
    expect(isUpstreamError(error)).toBe(true);
    expect(error).toMatchObject({
      code: "UPSTREAM_HTTP_ERROR",
      status: 404,
      retryable: false,
      body: { type: "about:blank", title: "Item not found", status: 404 },
    });
    expect((error as Error).message).toBe(
      `inventory (${upstream.url}) answered 404 to GET /items/9: Item not found`,
    );
    expect(upstream.calls).toHaveLength(1);

    await rejection(inventory.getJson("/items/9"));
    await rejection(inventory.getJson("/items/9"));
    expect(inventory.breakerState(upstream.url)).toBe("closed");
  });

  it("rejects with UpstreamUnavailableError when discovery lists no instance", async () => {
    const inventory = client([]);
    expect(await rejection(inventory.getJson("/stock"))).toMatchObject({
      reason: "no-instances",
      message: "inventory is unavailable: discovery lists no instance",
    });
    expect(inventory.breakerState()).toBe("open");
  });

  it("turns a caller abort into UpstreamAbortedError, not a breaker failure", async () => {
    const upstream = await startUpstream((app) =>
      app.get("/slow", async () => {
        await new Promise((resolve) => setTimeout(resolve, 3000).unref());
        return {};
      }),
    );
    const inventory = client([upstream.url], { breaker: { consecutiveFailures: 1 } });

    const error = await rejection(inventory.getJson("/slow", { signal: AbortSignal.timeout(50) }));

    expect(isUpstreamAbortedError(error)).toBe(true);
    expect(error).toMatchObject({ retryable: false, instance: upstream.url });
    expect(upstream.calls).toHaveLength(1);
    expect(inventory.breakerState(upstream.url)).toBe("closed");
  });

  it("returns text bodies as text, and getJson refuses them", async () => {
    const upstream = await startUpstream((app) => app.get("/plain", async () => "just text"));
    const inventory = client([upstream.url]);

    expect(await inventory.request({ method: "GET", path: "/plain" })).toMatchObject({ body: "just text" });
    expect(isUpstreamProtocolError(await rejection(inventory.getJson("/plain")))).toBe(true);
  });

  it("follows discovery changes and stops serving after close()", async () => {
    const a = await startUpstream((app) => app.get("/who", async () => ({ name: "a" })));
    const b = await startUpstream((app) => app.get("/who", async () => ({ name: "b" })));
    const discovery = new StaticDiscovery({ inventory: [a.url] });
    const inventory = new ServiceClient({ service: "inventory", discovery });
    clients.push(inventory);

    expect(await inventory.getJson("/who")).toEqual({ name: "a" });
    discovery.set("inventory", [b.url]);
    expect(inventory.stats().instances.map((instance) => instance.instance)).toEqual([b.url]);
    expect(await inventory.getJson("/who")).toEqual({ name: "b" });

    await inventory.close();
    expect(await rejection(inventory.getJson("/who"))).toMatchObject({ reason: "client-closed" });
  });

  it("validates its options at construction", () => {
    const discovery = new StaticDiscovery();
    expect(() => new ServiceClient({ service: "", discovery })).toThrow(TypeError);
    expect(() => new ServiceClient({ service: "inventory", discovery, timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new ServiceClient({ service: "inventory", discovery, retry: { maxAttempts: 0 } })).toThrow(
      RangeError,
    );
  });
});

describe("what a failed call says was done", () => {
  /** An upstream that takes every POST /orders, then answers long after the client gave up. */
  const accepting = (taken: string[]) =>
    startUpstream((app) =>
      app.post("/orders", async (request) => {
        taken.push(String(request.headers["idempotency-key"]));
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
        return { id: "o-1" };
      }),
    );

  it("reports a POST whose first attempt timed out once sent, and whose retry was refused, as that timeout: outcome unknown", async () => {
    const taken: string[] = [];
    const slow = await accepting(taken);
    const dead = await deadUrl();
    const orders = client([slow.url, dead], { timeoutMs: 100, retry: { maxAttempts: 2, initialDelayMs: 1 } });

    const error = await rejection(orders.postJson("/orders", { sku: "tulip" }, { idempotencyKey: "k-1" }));

    // The refusal of the second attempt says nothing about the first, which the upstream took.
    expect(taken).toEqual(["k-1"]);
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    expect(error).toMatchObject({
      instance: slow.url,
      method: "POST",
      idempotent: true,
      outcomeUnknown: true,
    });
  });

  it("reports a POST whose retry was answered 503 after a first attempt timed out as that timeout, not the 503", async () => {
    const taken: string[] = [];
    const slow = await accepting(taken);
    const busy = await startUpstream((app) =>
      app.post("/orders", async (_request, reply) => reply.code(503).send({ title: "overloaded" })),
    );
    const orders = client([slow.url, busy.url], {
      timeoutMs: 100,
      retry: { maxAttempts: 2, initialDelayMs: 1 },
    });

    const error = await rejection(orders.postJson("/orders", { sku: "tulip" }, { idempotencyKey: "k-2" }));

    expect(busy.calls).toHaveLength(1);
    expect(isUpstreamHttpError(error)).toBe(false);
    expect(error).toMatchObject({ code: "UPSTREAM_TIMEOUT", outcomeUnknown: true });
  });

  it("counts a lost connection or a timeout as outcome unknown for a write, never for a read", async () => {
    const upstream = await startUpstream((app) => {
      // The request arrives, then the connection drops before any answer.
      app.post("/orders", async (request) => {
        request.raw.socket.destroy();
        return new Promise(() => {});
      });
      app.get("/orders", async (request) => {
        request.raw.socket.destroy();
        return new Promise(() => {});
      });
      app.put("/slow", () => new Promise(() => {}));
      app.get("/slow", () => new Promise(() => {}));
    });
    const orders = client([upstream.url], { retry: { maxAttempts: 1 } });
    const impatient = client([upstream.url], { timeoutMs: 100, retry: { maxAttempts: 1 } });

    const post = await rejection(orders.postJson("/orders", {}));
    expect(post).toMatchObject({
      reason: "connection-lost",
      method: "POST",
      idempotent: false,
      outcomeUnknown: true,
    });
    const get = await rejection(orders.getJson("/orders"));
    expect(get).toMatchObject({ reason: "connection-lost", method: "GET", outcomeUnknown: false });
    expect(await rejection(impatient.putJson("/slow", {}))).toMatchObject({
      code: "UPSTREAM_TIMEOUT",
      idempotent: true,
      outcomeUnknown: true,
    });
    expect(await rejection(impatient.getJson("/slow"))).toMatchObject({
      code: "UPSTREAM_TIMEOUT",
      outcomeUnknown: false,
    });
  });

  it("knows nothing was done when the connection was refused or the upstream answered 503", async () => {
    const dead = await deadUrl();
    const refused = await rejection(client([dead]).postJson("/orders", {}, { idempotencyKey: "k-3" }));
    expect(refused).toMatchObject({ reason: "connect-failed", outcomeUnknown: false });
    const busy = await startUpstream((app) =>
      app.post("/orders", async (_request, reply) => reply.code(503).send({ title: "overloaded" })),
    );
    const shed = await rejection(client([busy.url]).postJson("/orders", {}));
    expect(shed).toMatchObject({ status: 503, outcomeUnknown: false });
  });
});

/** An upstream whose GET /orders/held answers only when released, and whose POST /orders at once. */
async function holdingUpstream(): Promise<{ url: string; release: (() => void)[] }> {
  const release: (() => void)[] = [];
  const upstream = await startUpstream((app) => {
    app.get(
      "/orders/held",
      () => new Promise<{ held: true }>((done) => release.push(() => done({ held: true }))),
    );
    app.post("/orders", async () => ({ placed: true }));
  });
  return { url: upstream.url, release };
}

describe("held requests (Prefer: wait)", () => {
  it("wait on connections of their own: a new call does not queue behind held answers", async () => {
    const { url, release } = await holdingUpstream();
    // One ordinary connection: were the held calls on it, the POST would wait for them.
    const orders = client([url], { connections: 1 });
    const held = [1, 2, 3].map(() => orders.getJson("/orders/held", { held: true, timeoutMs: 10_000 }));
    await expect.poll(() => release.length).toBe(3);

    const placed = await orders.postJson("/orders", {}, { timeoutMs: 1_000 });
    expect(placed).toEqual({ placed: true });

    for (const done of release) done();
    expect(await Promise.all(held)).toEqual([{ held: true }, { held: true }, { held: true }]);
  });

  it("without the flag share the ordinary connections (the POST waits for one)", async () => {
    const { url, release } = await holdingUpstream();
    const orders = client([url], { connections: 1, retry: { maxAttempts: 1 } });
    const held = orders.getJson("/orders/held", { timeoutMs: 10_000 });
    await expect.poll(() => release.length).toBe(1);
    const placed = rejection(orders.postJson("/orders", {}, { timeoutMs: 300 }));
    expect(await placed).toMatchObject({ code: "UPSTREAM_TIMEOUT" });
    for (const done of release) done();
    await held;
  });
});

describe("a shed 503 (Retry-After) for a caller that only forwards (passOnShed)", () => {
  it("is handed back at once, not retried after the delay it asks for; other callers still retry it", async () => {
    const shedding = await startUpstream((app) =>
      app.post("/orders", async (_request, reply) =>
        reply.code(503).header("retry-after", "1").send({ title: "checkouts shed" }),
      ),
    );
    const orders = client([shedding.url], { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 50 } });
    const started = performance.now();
    const passed = await rejection(
      orders.postJson("/orders", {}, { idempotencyKey: "k-shed", passOnShed: true }),
    );
    expect(passed).toMatchObject({ status: 503, retryable: false, retryAfterMs: 1000 });
    expect(shedding.calls).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(500);

    const retried = await rejection(orders.postJson("/orders", {}, { idempotencyKey: "k-shed-2" }));
    expect(retried).toMatchObject({ status: 503 });
    expect(shedding.calls).toHaveLength(4);
  });
});
