import { setTimeout as sleep } from "node:timers/promises";
import { testSigningKey } from "@blossom/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GatewayHarness } from "./test-harness.js";

const harness = new GatewayHarness();
afterEach(async () => {
  vi.restoreAllMocks();
  await harness.close();
});

async function echoOrders(): Promise<Record<string, string[]>> {
  const echo = await harness.upstream((app) => {
    app.all("/*", async (request) => ({ authorization: request.headers.authorization ?? null }));
  });
  return { orders: [echo] };
}

describe("edge token verification cache", () => {
  it("verifies a token once while it is valid, and again once its exp has passed", async () => {
    const key = await testSigningKey();
    const verify = vi.spyOn(key.verifier, "check");
    const gateway = await harness.gateway(await echoOrders(), { verifier: key.verifier });
    // A few seconds of validity: the first two calls must land before exp even on a busy machine.
    const exp = Math.floor(Date.now() / 1000) + 4;
    const token = await key.token({ userId: "u1" }, exp);
    const call = () => fetch(`${gateway}/api/orders/1`, { headers: { authorization: `Bearer ${token}` } });

    for (const response of [await call(), await call()]) {
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ authorization: `Bearer ${token}` });
    }
    expect(verify).toHaveBeenCalledTimes(1);

    // Past its exp the cached answer is not used: the token is verified again (and still passes
    // within the verifier's clock tolerance, so the outcome is the verifier's, not the cache's).
    await sleep(Math.max(0, exp * 1000 - Date.now()) + 50);
    const after = await call();
    expect(after.status).toBe(200);
    await after.arrayBuffer();
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it("never remembers a refusal: a bad token is verified, and refused, every time", async () => {
    const key = await testSigningKey();
    const other = await testSigningKey();
    const verify = vi.spyOn(key.verifier, "check");
    const gateway = await harness.gateway(await echoOrders(), { verifier: key.verifier });
    const forged = await other.token({ userId: "u1" });
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${gateway}/api/orders/1`, {
        headers: { authorization: `Bearer ${forged}` },
      });
      expect(response.status).toBe(401);
      await response.arrayBuffer();
    }
    expect(verify).toHaveBeenCalledTimes(2);
  });
});
