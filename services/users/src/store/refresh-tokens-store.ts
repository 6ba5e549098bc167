import type { Selectable } from "kysely";
import type { UsersTables } from "./tables.js";
import type { UsersDb } from "./users-store.js";

export type RefreshTokenRow = Selectable<UsersTables["refresh_tokens"]>;

export interface NewRefreshToken {
  id: string;
  tokenHash: string;
  familyId: string;
  userId: string;
  expiresAt: Date;
}

export async function insertRefreshToken(db: UsersDb, token: NewRefreshToken): Promise<void> {
  await db
    .insertInto("refresh_tokens")
    .values({
      id: token.id,
      token_hash: token.tokenHash,
      family_id: token.familyId,
      user_id: token.userId,
      expires_at: token.expiresAt,
      used_at: null,
      revoked_at: null,
    })
    .execute();
}

export async function findRefreshToken(db: UsersDb, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return db.selectFrom("refresh_tokens").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
}

/**
 * Spends a token, only if nobody spent or revoked it in the meantime: false means another
 * request got there first (a concurrent reuse).
 */
export async function markRefreshTokenUsed(db: UsersDb, id: string, at: Date): Promise<boolean> {
  const result = await db
    .updateTable("refresh_tokens")
    .set({ used_at: at })
    .where("id", "=", id)
    .where("used_at", "is", null)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Revokes every token of a family not revoked yet; returns how many. */
export async function revokeFamily(db: UsersDb, familyId: string, at: Date): Promise<number> {
  const result = await db
    .updateTable("refresh_tokens")
    .set({ revoked_at: at })
    .where("family_id", "=", familyId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
