import { describe, expect, it } from "vitest";
import { testSigningKey } from "./signing.js";

describe("testSigningKey", () => {
  it("signs user and service tokens its own verifier accepts", async () => {
    const key = await testSigningKey("kit-key");
    expect(await key.verifier.verify(await key.token({ userId: "ann", role: "admin" }))).toMatchObject({
      userId: "ann",
      role: "admin",
    });
    expect(await key.verifier.verifyService(await key.serviceToken("orders"))).toMatchObject({
      service: "orders",
    });
    expect(key.privateJwk).toMatchObject({ kid: "kit-key", crv: "Ed25519" });
    expect(key.privateJwk.d).toBeTypeOf("string");
    expect(key.publicJwk.d).toBeUndefined();
  });

  it("signs expired tokens and tokens under another kid, which the verifier refuses", async () => {
    const key = await testSigningKey();
    const past = Math.floor(Date.now() / 1000) - 3600;
    await expect(key.verifier.verify(await key.token({ userId: "ann" }, past))).rejects.toThrow();
    const other = await testSigningKey();
    await expect(key.verifier.verify(await other.token({ userId: "ann" }))).rejects.toThrow();
  });
});
