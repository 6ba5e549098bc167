import { sql } from "kysely";
import type { Preferences } from "../domain/preferences.js";
import type { NotificationsDb } from "./db.js";

export interface Contact {
  email: string;
  name: string;
}

/** Keeps the latest contact details of a user (a later event wins). */
export async function saveContact(db: NotificationsDb, userId: string, contact: Contact): Promise<void> {
  await db
    .insertInto("contacts")
    .values({ user_id: userId, email: contact.email, name: contact.name })
    .onConflict((conflict) =>
      conflict
        .column("user_id")
        .doUpdateSet({ email: contact.email, name: contact.name, updated_at: sql<Date>`now()` }),
    )
    .execute();
}

export async function findContact(db: NotificationsDb, userId: string): Promise<Contact | undefined> {
  return db.selectFrom("contacts").select(["email", "name"]).where("user_id", "=", userId).executeTakeFirst();
}

/** A user's stored choices, or undefined when the user never chose (the caller applies the defaults). */
export async function findPreferences(db: NotificationsDb, userId: string): Promise<Preferences | undefined> {
  return db
    .selectFrom("preferences")
    .select(["email", "sms", "push"])
    .where("user_id", "=", userId)
    .executeTakeFirst();
}

export async function savePreferences(
  db: NotificationsDb,
  userId: string,
  preferences: Preferences,
): Promise<void> {
  const values = { email: preferences.email, sms: preferences.sms, push: preferences.push };
  await db
    .insertInto("preferences")
    .values({ user_id: userId, ...values })
    .onConflict((conflict) =>
      conflict.column("user_id").doUpdateSet({ ...values, updated_at: sql<Date>`now()` }),
    )
    .execute();
}
