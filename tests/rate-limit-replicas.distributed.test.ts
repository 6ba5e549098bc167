import { randomInt } from "node:crypto";
import { type BlossomProcess, freePort, killAll, spawnBlossom, waitForReady } from "@blossom/testkit";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The gateway's rate limit holds across replicas: two `blossom start gateway` processes sharing
 * the real Redis (REDIS_URL) give one client one budget between them, however its requests are
 * spread. Runs with the distributed suites (`npm run test:distributed`), where Redis runs.
 */
const REDIS_URL = process.env.BLOSSOM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const BUDGET = 6;

describe("rate limits across gateway processes", () => {
  const processes: BlossomProcess[] = [];
  let upstream: FastifyInstance;
  const gateways: string[] = [];

  beforeAll(async () => {
    // A real upstream standing in for inventory: the limit is the gateway's, whatever is behind it.
    upstream = Fastify();
    upstream.get("/api/inventory/products", async () => ({ items: [] }));
    const upstreamUrl = await upstream.listen({ host: "127.0.0.1", port: 0 });
    for (let replica = 0; replica < 2; replica++) {
      const port = await freePort();
      gateways.push(`http://127.0.0.1:${port}`);
      processes.push(
        spawnBlossom(["start", "gateway"], {
          PORT: String(port),
          // Two gateways on one machine: each its own metrics listener.
          GATEWAY_METRICS_PORT: "0",
          REDIS_URL,
          GATEWAY_RATE_LIMIT_PER_MINUTE: String(BUDGET),
          // The test plays the ingress: it names the client in X-Forwarded-For, which lets every
          // run use a client address of its own in the shared Redis.
          GATEWAY_TRUSTED_PROXIES: "127.0.0.1,::1",
          INVENTORY_URL: upstreamUrl,
          USERS_URL: upstreamUrl,
          LOG_LEVEL: "warn",
        }),
      );
    }
    await Promise.all(processes.map((process_) => waitForReady(process_, 90_000)));
  }, 120_000);

  afterAll(async () => {
    await killAll(processes);
    await upstream?.close();
  });

  it("gives one client one budget between both replicas", async () => {
    const client = `198.18.${randomInt(0, 255)}.${randomInt(1, 255)}`;
    const call = async (gateway: string) => {
      const response = await fetch(`${gateway}/api/inventory/products`, {
        headers: { "x-forwarded-for": client },
      });
      await response.arrayBuffer();
      return { status: response.status, remaining: response.headers.get("ratelimit-remaining") };
    };
    // Alternating replicas: the budget counts down across both, as if there were one gateway.
    const answers = [];
    for (let index = 0; index < BUDGET; index++) answers.push(await call(gateways[index % 2] ?? ""));
    expect(answers.map((answer) => answer.status)).toEqual(Array(BUDGET).fill(200));
    expect(answers.map((answer) => Number(answer.remaining))).toEqual(
      Array.from({ length: BUDGET }, (_, index) => BUDGET - 1 - index),
    );
    // Spent on both: either replica now refuses this client, with the standard headers.
    for (const gateway of gateways) {
      const refused = await fetch(`${gateway}/api/inventory/products`, {
        headers: { "x-forwarded-for": client },
      });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(refused.headers.get("content-type")).toMatch(/application\/problem\+json/);
    }
    // Another client still has a budget of its own.
    const other = await fetch(`${gateways[1]}/api/inventory/products`, {
      headers: { "x-forwarded-for": `198.19.${randomInt(0, 255)}.${randomInt(1, 255)}` },
    });
    expect(other.status).toBe(200);
  });
});
