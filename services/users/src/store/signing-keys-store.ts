import type { Selectable } from "kysely";
import type { UsersTables } from "./tables.js";
import type { UsersDb } from "./users-store.js";

export type SigningKeyRow = Selectable<UsersTables["signing_keys"]>;

export interface NewSigningKey {
  kid: string;
  publicJwk: string;
  privateJwk: string | null;
  createdAt: Date;
}

export async function listSigningKeys(db: UsersDb): Promise<SigningKeyRow[]> {
  return db.selectFrom("signing_keys").selectAll().orderBy("created_at", "desc").orderBy("kid").execute();
}

export async function findSigningKey(db: UsersDb, kid: string): Promise<SigningKeyRow | undefined> {
  return db.selectFrom("signing_keys").selectAll().where("kid", "=", kid).executeTakeFirst();
}

export async function insertSigningKey(db: UsersDb, key: NewSigningKey): Promise<void> {
  await db
    .insertInto("signing_keys")
    .values({
      kid: key.kid,
      public_jwk: key.publicJwk,
      private_jwk: key.privateJwk,
      created_at: key.createdAt,
      retired_at: null,
    })
    .execute();
}

/** Retires every active key but `keep`: they stop signing and stay published for a grace period. */
export async function retireOtherKeys(db: UsersDb, keep: string, at: Date): Promise<number> {
  const result = await db
    .updateTable("signing_keys")
    .set({ retired_at: at })
    .where("retired_at", "is", null)
    .where("kid", "!=", keep)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
