import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { StaticDiscovery } from "./discovery/static-discovery.js";
import { ServiceClient } from "./service-client.js";

const servers: FastifyInstance[] = [];
const clients: ServiceClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/**
 * An upstream whose `/bad` fails with a 500 (one request's input), `/shed` refuses with a 503 and
 * `Retry-After` (overload), `/slow` answers after 300 ms, and `/good` answers.
 */
async function upstream(): Promise<string> {
  const app = Fastify({ forceCloseConnections: true });
  app.get("/bad", async (_request, reply) => reply.code(500).send({ title: "input the database refused" }));
  app.get("/shed", async (_request, reply) =>
    reply.code(503).header("retry-after", "1").send({ title: "Service unavailable" }),
  );
  app.get("/slow", async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { ok: true };
  });
  app.get("/good", async () => ({ ok: true }));
  servers.push(app);
  return app.listen({ port: 0, host: "127.0.0.1" });
}

function client(url: string, timeoutMs = 2000): ServiceClient {
  const created = new ServiceClient({
    service: "inventory",
    discovery: new StaticDiscovery({ inventory: [url] }),
    retry: { maxAttempts: 1 },
    timeoutMs,
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 60_000 },
  });
  clients.push(created);
  return created;
}

async function status(promise: Promise<unknown>): Promise<number | string> {
  try {
    await promise;
    return 200;
  } catch (error) {
    const failure = error as { status?: number; reason?: string };
    return failure.status ?? failure.reason ?? "error";
  }
}

describe("breaker against one caller's failures", () => {
  it("one caller's failing requests never open it: another caller is served", async () => {
    const inventory = client(await upstream());
    for (let i = 0; i < 20; i++)
      expect(await status(inventory.getJson("/bad", { caller: "ip:attacker" }))).toBe(500);
    expect(inventory.breakerState()).toBe("closed");
    expect(await status(inventory.getJson("/good", { caller: "user:victim" }))).toBe(200);
  });

  it("failures from two callers open it as before", async () => {
    const inventory = client(await upstream());
    for (let i = 0; i < 5; i++)
      await status(inventory.getJson("/bad", { caller: i % 2 === 0 ? "user:a" : "user:b" }));
    expect(inventory.breakerState()).toBe("open");
    expect(await status(inventory.getJson("/good", { caller: "user:c" }))).toBe("all-circuits-open");
  });

  it("calls for no named caller (service to service) count as one caller each", async () => {
    const inventory = client(await upstream());
    for (let i = 0; i < 5; i++) await status(inventory.getJson("/bad"));
    expect(inventory.breakerState()).toBe("open");
  });

  it("a refused connection opens it whoever called: the instance is gone", async () => {
    const url = await upstream();
    const inventory = client(url);
    await servers.splice(0)[0]?.close();
    for (let i = 0; i < 5; i++)
      expect(await status(inventory.getJson("/good", { caller: "ip:only-one" }))).toBe("connect-failed");
    expect(inventory.breakerState()).toBe("open");
  });
});

describe("breaker against a saturated instance (alive, but slow or shedding)", () => {
  it("timeouts never open it: a slow instance is still called", async () => {
    const inventory = client(await upstream(), 50);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => status(inventory.getJson("/slow", { caller: `user:${i}` }))),
    );
    expect(answers.every((answer) => answer === "error")).toBe(true);
    expect(answers).toHaveLength(20);
    expect(inventory.breakerState()).toBe("closed");
    // Still called: with a timeout of its own, so that a busy machine's slow answer (over the
    // 50 ms that made /slow time out) cannot be taken for the breaker refusing it.
    expect(await status(inventory.getJson("/good", { caller: "user:after", timeoutMs: 5000 }))).toBe(200);
  });

  it("503s with Retry-After (load shed before any work) never open it", async () => {
    const inventory = client(await upstream());
    for (let i = 0; i < 20; i++)
      expect(await status(inventory.getJson("/shed", { caller: `user:${i}` }))).toBe(503);
    expect(inventory.breakerState()).toBe("closed");
    expect(await status(inventory.getJson("/good", { caller: "user:after" }))).toBe(200);
  });

  it("a few 500s among answers do not open it: a success ends a run of failures", async () => {
    const inventory = client(await upstream());
    // 8 failures from many callers, each among 9 successes.
    for (let i = 0; i < 80; i++) {
      const path = i % 10 === 0 ? "/bad" : "/good";
      await status(inventory.getJson(path, { caller: `user:${i}` }));
    }
    expect(inventory.breakerState()).toBe("closed");
  });
});
