import { createHash, randomBytes } from "node:crypto";

/**
 * Refresh tokens are opaque random strings, stored only as their SHA-256 hash. Each sign-in
 * starts a family; each refresh spends the presented token (it is usable once) and adds a new
 * one to the same family. A spent token presented again means two parties hold the family
 * (a stolen token): the whole family is revoked, so the thief and the victim both sign in again.
 */
export interface StoredRefreshToken {
  familyId: string;
  userId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export type RefreshDecision =
  /** Valid: spend it and hand out the next token of the family. */
  | { kind: "rotate" }
  /** Spent already: revoke the whole family and refuse. */
  | { kind: "reuse" }
  /** Refuse, nothing else to do. */
  | { kind: "reject"; reason: "unknown" | "revoked" | "expired" };

export function decideRefresh(token: StoredRefreshToken | undefined, now: Date): RefreshDecision {
  if (!token) return { kind: "reject", reason: "unknown" };
  // A revoked family stays revoked: nothing more to learn from another attempt.
  if (token.revokedAt) return { kind: "reject", reason: "revoked" };
  // Spent before, even if it has expired since: its family may still be alive in a thief's hands.
  if (token.usedAt) return { kind: "reuse" };
  if (token.expiresAt.getTime() <= now.getTime()) return { kind: "reject", reason: "expired" };
  return { kind: "rotate" };
}

/** 32 random bytes, base64url (43 characters). */
export function newRefreshToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * What the database keeps of a refresh token. A fast hash is enough: the token has 256 bits of
 * entropy, so there is nothing to guess; the hash only makes a database leak useless.
 */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function refreshExpiry(now: Date, ttlSeconds: number): Date {
  return new Date(now.getTime() + ttlSeconds * 1000);
}
