import { randomBytes } from "node:crypto";

/** The development admin the seed creates (never in production). */
export const ADMIN_EMAIL = "admin@blossom.local";
export const ADMIN_NAME = "Blossom Admin";

/** Passwords that sample configurations, tutorials and habit put in `BLOSSOM_ADMIN_PASSWORD`. */
const WEAK_DEFAULTS = new Set([
  "admin123",
  "admin1234",
  "admin12345",
  "administrator",
  "adminadmin",
  "password",
  "password1",
  "password123",
  "passw0rd",
  "changeme",
  "changeme1",
  "changeme123",
  "changeit",
  "blossom",
  "blossom1",
  "blossom123",
  "blossom-admin",
  "blossomadmin",
  "admin@blossom",
  "letmein1",
  "letmein123",
  "secret123",
  "qwertyuiop",
  "12345678",
  "123456789",
  "1234567890",
  "correct horse",
  "correct horse battery staple",
]);

/** Shorter than this is refused for an admin in production. */
export const ADMIN_PASSWORD_MIN_LENGTH = 12;

/** Whether an admin password is a well-known default or too short to be anything else. */
export function isWeakAdminPassword(password: string): boolean {
  const normalized = password.trim().toLowerCase();
  return (
    WEAK_DEFAULTS.has(normalized) || password.length < ADMIN_PASSWORD_MIN_LENGTH || new Set(password).size < 5
  );
}

/** 18 random bytes as base64url: 24 characters, 144 bits. */
export function generateAdminPassword(): string {
  return randomBytes(18).toString("base64url");
}
