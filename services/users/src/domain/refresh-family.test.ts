import { describe, expect, it } from "vitest";
import {
  decideRefresh,
  hashRefreshToken,
  newRefreshToken,
  refreshExpiry,
  type StoredRefreshToken,
} from "./refresh-family.js";

const now = new Date("2030-01-01T00:00:00Z");
const token = (overrides: Partial<StoredRefreshToken> = {}): StoredRefreshToken => ({
  familyId: "f1",
  userId: "u1",
  expiresAt: new Date(now.getTime() + 60_000),
  usedAt: null,
  revokedAt: null,
  ...overrides,
});

describe("refresh-token families", () => {
  it("rotates a live, unspent token", () => {
    expect(decideRefresh(token(), now)).toEqual({ kind: "rotate" });
  });

  it("treats a spent token as reuse (revoke the family), even once it has expired", () => {
    expect(decideRefresh(token({ usedAt: now }), now)).toEqual({ kind: "reuse" });
    expect(decideRefresh(token({ usedAt: now, expiresAt: new Date(0) }), now)).toEqual({ kind: "reuse" });
  });

  it("rejects unknown, revoked and expired tokens without more ado", () => {
    expect(decideRefresh(undefined, now)).toEqual({ kind: "reject", reason: "unknown" });
    expect(decideRefresh(token({ revokedAt: now, usedAt: now }), now)).toEqual({
      kind: "reject",
      reason: "revoked",
    });
    expect(decideRefresh(token({ expiresAt: now }), now)).toEqual({ kind: "reject", reason: "expired" });
  });

  it("makes opaque 256-bit tokens and stores only their SHA-256", () => {
    const a = newRefreshToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newRefreshToken()).not.toBe(a);
    expect(hashRefreshToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRefreshToken(a)).toBe(hashRefreshToken(a));
    expect(hashRefreshToken(a)).not.toContain(a);
    expect(refreshExpiry(now, 30).toISOString()).toBe("2030-01-01T00:00:30.000Z");
  });
});
