import { randomUUID } from "node:crypto";
import type { ServiceContext } from "@blossom/host";
import { isUniqueViolation } from "@blossom/store";
import { ADMIN_EMAIL, ADMIN_NAME, generateAdminPassword } from "../domain/admin.js";
import { hashPassword, verifyPassword } from "../domain/password.js";
import { UserRegistered } from "../events/contracts.js";
import type { UsersSettingsSchema } from "../settings.js";
import type { UsersTables } from "./tables.js";
import { findUserByEmail, insertUser, updatePasswordHash } from "./users-store.js";

/**
 * Development only: one admin, admin@blossom.local, with the password BLOSSOM_ADMIN_PASSWORD
 * (generated and logged once, when the admin is created, if unset). Never in production.
 * An existing admin gets the configured password if it changed; an existing account of that
 * email that is not an admin is left alone (it is never promoted).
 */
export async function seedAdmin(context: ServiceContext<UsersTables, UsersSettingsSchema>): Promise<void> {
  if (context.environment === "production") return;
  const adminPassword = context.settings.BLOSSOM_ADMIN_PASSWORD;
  const existing = await findUserByEmail(context.db, ADMIN_EMAIL);
  if (existing) {
    if (existing.role !== "admin") {
      context.logger.warn(
        { email: ADMIN_EMAIL },
        "an account that is not an admin holds the admin email: not seeded",
      );
    } else if (adminPassword && !(await verifyPassword(adminPassword, existing.password_hash))) {
      await updatePasswordHash(
        context.db,
        existing.id,
        await hashPassword(adminPassword, context.settings.USERS_PASSWORD_HASH_COST),
      );
      context.logger.info({ email: ADMIN_EMAIL }, "admin password set from BLOSSOM_ADMIN_PASSWORD");
    }
    return;
  }
  const password = adminPassword ?? generateAdminPassword();
  const id = randomUUID();
  const passwordHash = await hashPassword(password, context.settings.USERS_PASSWORD_HASH_COST);
  try {
    await context.transaction(async (trx) => {
      await insertUser(trx, { id, email: ADMIN_EMAIL, name: ADMIN_NAME, passwordHash, role: "admin" });
      await context.outbox.add(trx, UserRegistered, id, { userId: id, email: ADMIN_EMAIL, name: ADMIN_NAME });
    });
  } catch (error) {
    // Another replica seeded it at the same moment: its password (and its log line) win.
    if (isUniqueViolation(error)) return;
    throw error;
  }
  if (adminPassword) context.logger.info({ email: ADMIN_EMAIL }, "admin seeded");
  else
    context.logger.warn(
      { email: ADMIN_EMAIL },
      `admin password generated: ${password} (set BLOSSOM_ADMIN_PASSWORD to choose it; shown only this once)`,
    );
}
