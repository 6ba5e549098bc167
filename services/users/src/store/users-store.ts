import type { MessagingTables } from "@blossom/bus";
import type { Kysely } from "kysely";
import type { UsersTables } from "./tables.js";

export type UsersDb = Kysely<UsersTables & MessagingTables>;

export interface NewUser {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  role: "customer" | "admin";
}

export async function insertUser(db: UsersDb, user: NewUser): Promise<void> {
  await db
    .insertInto("users")
    .values({
      id: user.id,
      email: user.email,
      name: user.name,
      password_hash: user.passwordHash,
      role: user.role,
    })
    .execute();
}
