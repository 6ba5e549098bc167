import { type TestSigningKey, testSigningKey } from "@blossom/testkit";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayHarness } from "./test-harness.js";

const harness = new GatewayHarness();
afterEach(() => harness.close());

let key: TestSigningKey;
beforeAll(async () => {
  key = await testSigningKey();
});

/**
 * Finding: six `GET /api/inventory/products?limit=Infinity` (500 each) opened the gateway's
 * breaker, and every other caller's catalog reads answered 503 for 5 s. Whatever the cause of a
 * 500, one client's requests must not take a service away from the others.
 */
describe("a client whose requests fail", () => {
  it("cannot make another client's requests fail", async () => {
    const inventory = await harness.upstream((app) => {
      app.get("/api/inventory/products", async (request, reply) =>
        (request.query as { limit?: string }).limit === "Infinity"
          ? reply.code(500).send({ title: "invalid input syntax for type bigint" })
          : { items: [] },
      );
    });
    const gateway = await harness.gateway({ inventory: [inventory] }, { verifier: key.verifier });
    const attacker = { authorization: `Bearer ${await key.token({ userId: "attacker" })}` };
    const victim = { authorization: `Bearer ${await key.token({ userId: "victim" })}` };

    const attacks: number[] = [];
    for (let i = 0; i < 20; i++)
      attacks.push(
        (await fetch(`${gateway}/api/inventory/products?limit=Infinity`, { headers: attacker })).status,
      );
    expect(attacks.every((status) => status === 500)).toBe(true);

    for (const headers of [victim, {}]) {
      const answer = await fetch(`${gateway}/api/inventory/products?limit=10`, { headers });
      expect(answer.status).toBe(200);
    }
    // Anonymous attackers share their address: the same holds for them.
    for (let i = 0; i < 10; i++) await fetch(`${gateway}/api/inventory/products?limit=Infinity`);
    expect((await fetch(`${gateway}/api/inventory/products?limit=10`, { headers: victim })).status).toBe(200);
  });
});
