import { randomUUID } from "node:crypto";
import { TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER } from "@blossom/auth";
import type { Logger } from "@blossom/runtime";
import { SignJWT } from "jose";
import { decideRefresh, hashRefreshToken, newRefreshToken, refreshExpiry } from "../domain/refresh-family.js";
import { accessClaims, type TokenSubject } from "../domain/token-policy.js";
import {
  findRefreshToken,
  insertRefreshToken,
  markRefreshTokenUsed,
  revokeFamily,
} from "../store/refresh-tokens-store.js";
import { findUserById, type UsersDb } from "../store/users-store.js";
import type { KeyRing, Signer } from "./key-ring.js";

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  expiresIn: number;
}

export interface SessionsOptions {
  db: UsersDb;
  keys: KeyRing;
  logger: Logger;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

/** Why a refresh was refused (logged, never told to the client: all answer the same 401). */
export type RefreshRefusal = "unknown" | "revoked" | "expired" | "reuse" | "no-user";

/**
 * Sign-in sessions: an access token (a short-lived JWT anyone can verify with the JWKS) and a
 * refresh token family (opaque, rotated on each use, revoked as a whole on reuse or logout).
 */
export class Sessions {
  #options: SessionsOptions;

  constructor(options: SessionsOptions) {
    this.#options = options;
  }

  /** Signs in: a new family. */
  async start(user: TokenSubject): Promise<TokenPair> {
    const signer = await this.#options.keys.signer();
    const now = new Date();
    const refreshToken = newRefreshToken();
    await insertRefreshToken(this.#options.db, {
      id: randomUUID(),
      tokenHash: hashRefreshToken(refreshToken),
      familyId: randomUUID(),
      userId: user.id,
      expiresAt: refreshExpiry(now, this.#options.refreshTokenTtlSeconds),
    });
    return this.#pair(signer, user, refreshToken, now);
  }

  /** Spends a refresh token for a new pair, or says why not. */
  async refresh(presented: string): Promise<TokenPair | { refused: RefreshRefusal }> {
    const { db, logger } = this.#options;
    // The signer is chosen before anything is spent, so nothing can fail between the commit
    // and the answer (a spent token whose successor never reached the client locks it out).
    const signer = await this.#options.keys.signer();
    const now = new Date();
    type Outcome =
      | { refused: RefreshRefusal; userId?: string; familyId?: string; revoked?: number }
      | { user: TokenSubject; refreshToken: string };
    const outcome = await db.transaction().execute(async (trx): Promise<Outcome> => {
      const row = await findRefreshToken(trx, hashRefreshToken(presented));
      const decision = decideRefresh(
        row && {
          familyId: row.family_id,
          userId: row.user_id,
          expiresAt: new Date(row.expires_at),
          usedAt: row.used_at,
          revokedAt: row.revoked_at,
        },
        now,
      );
      if (decision.kind === "reject") return { refused: decision.reason };
      if (!row) return { refused: "unknown" };
      // Spent already, or spent by a concurrent request right now: the family is compromised.
      if (decision.kind === "reuse" || !(await markRefreshTokenUsed(trx, row.id, now))) {
        const revoked = await revokeFamily(trx, row.family_id, now);
        return { refused: "reuse", userId: row.user_id, familyId: row.family_id, revoked };
      }
      const user = await findUserById(trx, row.user_id);
      if (!user) {
        await revokeFamily(trx, row.family_id, now);
        return { refused: "no-user" };
      }
      const refreshToken = newRefreshToken();
      await insertRefreshToken(trx, {
        id: randomUUID(),
        tokenHash: hashRefreshToken(refreshToken),
        familyId: row.family_id,
        userId: user.id,
        expiresAt: refreshExpiry(now, this.#options.refreshTokenTtlSeconds),
      });
      return { user: { id: user.id, email: user.email, role: user.role }, refreshToken };
    });
    if ("refused" in outcome) {
      if (outcome.refused === "reuse") {
        logger.warn(
          { user_id: outcome.userId, family_id: outcome.familyId, revoked: outcome.revoked },
          "refresh token reused: its family is revoked",
        );
      }
      return { refused: outcome.refused };
    }
    return this.#pair(signer, outcome.user, outcome.refreshToken, now);
  }

  /** Signs out: revokes the token's whole family. Unknown tokens are ignored (logout is idempotent). */
  async end(presented: string): Promise<void> {
    const { db } = this.#options;
    const row = await findRefreshToken(db, hashRefreshToken(presented));
    if (row) await revokeFamily(db, row.family_id, new Date());
  }

  async #pair(signer: Signer, user: TokenSubject, refreshToken: string, now: Date): Promise<TokenPair> {
    const ttl = this.#options.accessTokenTtlSeconds;
    const claims = accessClaims(user, now, ttl);
    const accessToken = await new SignJWT({ role: claims.role, email: claims.email })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: signer.kid, typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .sign(signer.key);
    return { accessToken, refreshToken, tokenType: "Bearer", expiresIn: ttl };
  }
}
