import type { MessagingTables } from "@blossom/bus";
import { type Kysely, type Selectable, sql } from "kysely";
import type { UsersTables } from "./tables.js";

export type UsersDb = Kysely<UsersTables & MessagingTables>;
export type UserRow = Selectable<UsersTables["users"]>;

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

/** The account of a normalized (lower-cased) email, through the unique index on lower(email). */
export async function findUserByEmail(db: UsersDb, email: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where(sql<string>`lower(email)`, "=", email).executeTakeFirst();
}

export async function findUserById(db: UsersDb, id: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function updateUserName(db: UsersDb, id: string, name: string): Promise<UserRow | undefined> {
  return db.updateTable("users").set({ name }).where("id", "=", id).returningAll().executeTakeFirst();
}

export async function updatePasswordHash(db: UsersDb, id: string, passwordHash: string): Promise<void> {
  await db.updateTable("users").set({ password_hash: passwordHash }).where("id", "=", id).execute();
}
