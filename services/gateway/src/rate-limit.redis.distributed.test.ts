import { randomUUID } from "node:crypto";
import { type TestSigningKey, testAdapters, testSigningKey } from "@blossom/testkit";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayHarness } from "./test-harness.js";

// Runs with the distributed suites (BLOSSOM_TEST_ADAPTERS names nats), where Redis runs beside
// NATS and PostgreSQL; `npm test` does not pick this file up (vitest.config.ts).
const REDIS_URL = process.env.BLOSSOM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `blossom-test:rate-limit:${randomUUID()}:`;

const harness = new GatewayHarness();
let key: TestSigningKey;
let redis: Redis;
beforeAll(async () => {
  key = await testSigningKey();
  redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});
afterEach(() => harness.close());
afterAll(async () => {
  // Leave nothing behind: every key this run made has the run's own prefix.
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe.runIf(testAdapters().bus.includes("nats"))("rate limits shared through Redis", () => {
  it("holds one budget across two gateway replicas", async () => {
    const upstream = await harness.upstream((app) => {
      app.get("/api/orders", async () => ({ items: [] }));
      app.get("/api/inventory/products", async () => ({ items: [] }));
    });
    const options = {
      verifier: key.verifier,
      rateLimit: { perMinute: 4, redisUrl: REDIS_URL, redisKeyPrefix: PREFIX },
    };
    const instances = { orders: [upstream], inventory: [upstream] };
    const replicas = [await harness.gateway(instances, options), await harness.gateway(instances, options)];

    const auth = { authorization: `Bearer ${await key.token({ userId: "ann" })}` };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${replicas[i % 2]}/api/orders`, { headers: auth });
      statuses.push(response.status);
    }
    // 4 allowed in all, alternating replicas, then both refuse.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const refused = await fetch(`${replicas[1]}/api/orders`, { headers: auth });
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await redis.keys(`${PREFIX}*`)).length).toBeGreaterThan(0);
    // Another caller (anonymous, by IP) has its own shared budget.
    expect((await fetch(`${replicas[0]}/api/inventory/products`)).status).toBe(200);
  });
});
