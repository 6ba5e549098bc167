import { describe, expect, it } from "vitest";
import { isWeakAdminPassword } from "./admin.js";
import { parseSigningKey } from "./signing-key.js";

const x = "uclR5bbQS9GR9fNbJolnMuoY_55dJcODEP_fflxd7FU";
const d = "ONP8oMaw3IQa9vMnveCHnVGlbMhdovQsDZAJU_vjTKU";

describe("configured signing key", () => {
  it("accepts a private Ed25519 JWK, with or without a kid, and keeps only its key members", () => {
    expect(parseSigningKey(JSON.stringify({ kty: "OKP", crv: "Ed25519", x, d, use: "sig" }))).toEqual({
      ok: true,
      jwk: { kty: "OKP", crv: "Ed25519", x, d },
    });
    expect(
      parseSigningKey(JSON.stringify({ kty: "OKP", crv: "Ed25519", x, d, kid: "k-2030" })),
    ).toMatchObject({
      ok: true,
      jwk: { kid: "k-2030" },
    });
  });

  it("refuses what is not one, and never quotes the secret", () => {
    const cases = [
      "not json",
      "[]",
      JSON.stringify({ kty: "RSA", n: "x", e: "AQAB", d }),
      JSON.stringify({ kty: "OKP", crv: "Ed448", x, d }),
      JSON.stringify({ kty: "OKP", crv: "Ed25519", x }),
      JSON.stringify({ kty: "OKP", crv: "Ed25519", d }),
      JSON.stringify({ kty: "OKP", crv: "Ed25519", x, d, kid: "a b" }),
    ];
    for (const text of cases) {
      const parsed = parseSigningKey(text);
      expect(parsed.ok, text).toBe(false);
      if (!parsed.ok) expect(parsed.problem).not.toContain(d);
    }
  });
});

describe("admin password strength", () => {
  it("calls well-known defaults, short and repetitive passwords weak", () => {
    for (const weak of [
      "changeme123",
      "Password123",
      "admin123",
      "12345678",
      "blossom-admin",
      "aaaaaaaaaaaaaaaa",
    ]) {
      expect(isWeakAdminPassword(weak), weak).toBe(true);
    }
    expect(isWeakAdminPassword("v8#Qm2!rTz9@Lp4w")).toBe(false);
  });
});
