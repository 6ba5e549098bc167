import { describe, expect, it } from "vitest";
import { accessClaims, currentKey, isPublished, retiredKeyGraceSeconds } from "./token-policy.js";

describe("token policy", () => {
  it("builds the user claims with iat and exp from the clock and the lifetime", () => {
    const claims = accessClaims(
      { id: "u1", email: "ann@example.com", role: "customer" },
      new Date("2030-01-01T00:00:00.900Z"),
      900,
    );
    expect(claims).toEqual({
      sub: "u1",
      role: "customer",
      email: "ann@example.com",
      iat: 1_893_456_000,
      exp: 1_893_456_900,
    });
  });

  it("publishes active keys, and retired ones only while their tokens may still be accepted", () => {
    const now = new Date("2030-01-01T01:00:00Z");
    const grace = retiredKeyGraceSeconds(900);
    expect(grace).toBeGreaterThan(900 + 30);
    expect(isPublished({ createdAt: now, retiredAt: null }, now, 900)).toBe(true);
    const justRetired = new Date(now.getTime() - 900_000);
    expect(isPublished({ createdAt: new Date(0), retiredAt: justRetired }, now, 900)).toBe(true);
    const longRetired = new Date(now.getTime() - grace * 1000);
    expect(isPublished({ createdAt: new Date(0), retiredAt: longRetired }, now, 900)).toBe(false);
  });

  it("signs with the newest key that is not retired", () => {
    const keys = [
      { kid: "a", createdAt: new Date(1000), retiredAt: null },
      { kid: "b", createdAt: new Date(3000), retiredAt: new Date(4000) },
      { kid: "c", createdAt: new Date(2000), retiredAt: null },
    ];
    expect(currentKey(keys)?.kid).toBe("c");
    expect(currentKey(keys.filter((key) => key.kid === "b"))).toBeUndefined();
  });
});
