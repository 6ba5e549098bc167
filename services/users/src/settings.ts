import { DEVELOPMENT_SERVICE_SECRET, serviceSecretProblems } from "@blossom/auth";

import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { isWeakAdminPassword } from "./domain/admin.js";
import { type Ed25519PrivateJwk, parseSigningKey } from "./domain/signing-key.js";

/**
 * The variables the users service reads, merged by the launcher into the platform's
 * configuration (and its README table). Secrets carry no constraint that could make the
 * configuration loader quote them in an error: their checks are here, and never print the value.
 */
export const usersSettings = {
  USERS_ACCESS_TOKEN_TTL_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 86_400,
    default: 900,
    description: "lifetime of an access token (JWT) in seconds",
  }),
  USERS_REFRESH_TOKEN_TTL_SECONDS: Type.Integer({
    minimum: 300,
    maximum: 31_536_000,
    default: 2_592_000,
    description: "lifetime of a refresh token in seconds (renewed with each refresh)",
  }),
  USERS_SIGNING_KEY: Type.Optional(
    Type.String({
      description: "private Ed25519 JWK (JSON) that signs access tokens; required in production",
    }),
  ),
  USERS_SERVICE_TOKEN_TTL_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 3600,
    default: 300,
    description: "lifetime of a service token (one service calling another) in seconds",
  }),
  // Platform-wide: every service derives its credential from it; users checks them. Declared
  // here, beside the check, as the admin password is.
  BLOSSOM_SERVICE_SECRET: Type.String({
    default: DEVELOPMENT_SERVICE_SECRET,
    description:
      "platform secret each service's credential for service tokens is derived from (HMAC-SHA256 of its name); required in production",
  }),
  BLOSSOM_ADMIN_PASSWORD: Type.Optional(
    Type.String({
      minLength: 8,
      description: "password of the development admin admin@blossom.local (unset: generated and logged)",
    }),
  ),
};

const SettingsSchema = Type.Object(usersSettings);
type RawSettings = Static<typeof SettingsSchema>;

export interface UsersSettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  serviceTokenTtlSeconds: number;
  /** Checks the credentials services present for a service token. */
  serviceSecret: string;
  /** The configured signing key; unset outside production means "generate and keep one in the database". */
  signingKey: Ed25519PrivateJwk | undefined;
  adminPassword: string | undefined;
}

const cache = new WeakMap<object, UsersSettings>();

/**
 * The typed settings, from `context.settings` (already validated by the launcher; validated
 * again here for hosts built directly, e.g. in tests). Throws one error listing every problem.
 */
export function readUsersSettings(settings: Readonly<Record<string, unknown>>): UsersSettings {
  const cached = cache.get(settings);
  if (cached) return cached;
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(usersSettings)) {
    const value = settings[name];
    if (value !== undefined && value !== null && value !== "") raw[name] = value;
  }
  const values = Value.Default(SettingsSchema, Value.Convert(SettingsSchema, raw)) as RawSettings;
  const problems = [...Value.Errors(SettingsSchema, values)].map((error) => {
    const name = error.path.replace(/^\//, "").split("/")[0] ?? error.path;
    return `${name}: ${error.message}`;
  });
  let signingKey: Ed25519PrivateJwk | undefined;
  if (typeof values.USERS_SIGNING_KEY === "string") {
    const parsed = parseSigningKey(values.USERS_SIGNING_KEY);
    if (parsed.ok) signingKey = parsed.jwk;
    else problems.push(`USERS_SIGNING_KEY ${parsed.problem}`);
  }
  if (problems.length > 0)
    throw new Error(`invalid users settings:\n  ${[...new Set(problems)].join("\n  ")}`);
  const typed: UsersSettings = {
    accessTokenTtlSeconds: values.USERS_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: values.USERS_REFRESH_TOKEN_TTL_SECONDS,
    serviceTokenTtlSeconds: values.USERS_SERVICE_TOKEN_TTL_SECONDS,
    serviceSecret: values.BLOSSOM_SERVICE_SECRET,
    signingKey,
    adminPassword: values.BLOSSOM_ADMIN_PASSWORD,
  };
  cache.set(settings, typed);
  return typed;
}

/**
 * What production refuses: no signing key (production never generates one: every replica must
 * sign with the same key, kept in the platform's secret store), a malformed one, a weak
 * default admin password, and the development service secret (anyone can read it in the source,
 * and mint credentials with it). Each message starts with the variable's name and never quotes its value.
 */
export function checkUsersProduction(settings: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const key = settings.USERS_SIGNING_KEY;
  if (typeof key !== "string" || key.trim() === "") {
    problems.push(
      "USERS_SIGNING_KEY is not set: production signs access tokens only with a key you provide (a private Ed25519 JWK as JSON)",
    );
  } else {
    const parsed = parseSigningKey(key);
    if (!parsed.ok) problems.push(`USERS_SIGNING_KEY ${parsed.problem}`);
  }
  problems.push(...serviceSecretProblems(settings.BLOSSOM_SERVICE_SECRET));
  const adminPassword = settings.BLOSSOM_ADMIN_PASSWORD;
  if (typeof adminPassword === "string" && adminPassword !== "" && isWeakAdminPassword(adminPassword)) {
    problems.push(
      "BLOSSOM_ADMIN_PASSWORD is weak (a well-known default, or under 12 characters): production refuses it, and creates no default admin anyway",
    );
  }
  return problems;
}
