import { DEVELOPMENT_SERVICE_SECRET, serviceSecretProblems } from "@blossom/auth";
import type { Settings } from "@blossom/host";
import proxyAddr from "@fastify/proxy-addr";
import { Type } from "@sinclair/typebox";
import { isWeakAdminPassword } from "./domain/admin.js";
import { PASSWORD_HASH_COST } from "./domain/password.js";
import { type Ed25519PrivateJwk, parseSigningKey } from "./domain/signing-key.js";

/**
 * The variables the users service reads, merged by the launcher into the platform's
 * configuration (and its README table). Secrets carry no constraint that could make the
 * configuration loader quote them in an error: their checks are in `usersConfig`, and never
 * print the value.
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
  // Test-only below its default: a hash names its cost, so verification does not depend on it.
  USERS_PASSWORD_HASH_COST: Type.Integer({
    minimum: 10,
    maximum: PASSWORD_HASH_COST,
    default: PASSWORD_HASH_COST,
    description:
      "scrypt cost of new password hashes, as log2 of N (15: 32 MiB per hash); lower only to make test suites faster: production refuses it below 15",
  }),
  // Read by Node itself at start-up (libuv's pool runs scrypt); declared here for the hashing slots.
  UV_THREADPOOL_SIZE: Type.Integer({
    minimum: 1,
    maximum: 1024,
    default: 4,
    description:
      "libuv's thread pool size, read by Node at start-up; the users service hashes at most this many passwords at once (and no more than the CPUs)",
  }),
  USERS_PASSWORD_HASH_QUEUE: Type.Integer({
    minimum: 0,
    maximum: 10_000,
    default: 32,
    description:
      "password hashes (sign-ups, logins) that may wait for a hashing slot; past them, or past half the route's 10 s budget, a sign-up or login is answered 503 with Retry-After before anything is written",
  }),
  // Login and sign-up limits (see README "Login and sign-up limits"). Always on: test harnesses,
  // whose clients all share 127.0.0.1, raise the budgets explicitly (as they raise the gateway's).
  USERS_LOGIN_MAX_FAILURES: Type.Integer({
    minimum: 1,
    default: 5,
    description:
      "failed logins per account and client address within USERS_LOGIN_FAILURE_WINDOW_SECONDS before that pair is locked",
  }),
  USERS_LOGIN_ACCOUNT_MAX_FAILURES: Type.Integer({
    minimum: 1,
    maximum: 10_000,
    default: 20,
    description:
      "failed logins per account from every address within USERS_LOGIN_FAILURE_WINDOW_SECONDS; past it only addresses the account signed in from in the last 30 days may try until the window ends",
  }),
  USERS_LOGIN_FAILURE_WINDOW_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 900,
    description: "window in which failed logins of an account from one client address are counted",
  }),
  USERS_LOGIN_LOCK_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 60,
    description: "first lock of an account for one client address; each further lock doubles it",
  }),
  USERS_LOGIN_LOCK_MAX_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 900,
    description: "longest lock of an account for one client address (the doubling stops there)",
  }),
  USERS_LOGIN_ADDRESS_MAX_FAILURES: Type.Integer({
    minimum: 1,
    default: 30,
    description:
      "failed logins per client address, whatever the accounts, within USERS_LOGIN_ADDRESS_WINDOW_SECONDS; past it the address's logins are refused until the window ends",
  }),
  USERS_LOGIN_ADDRESS_WINDOW_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 600,
    description: "window of USERS_LOGIN_ADDRESS_MAX_FAILURES",
  }),
  USERS_SIGNUP_MAX_PER_ADDRESS: Type.Integer({
    minimum: 1,
    default: 5,
    description: "sign-ups per client address within USERS_SIGNUP_WINDOW_SECONDS",
  }),
  USERS_SIGNUP_WINDOW_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 600,
    description: "window of USERS_SIGNUP_MAX_PER_ADDRESS",
  }),
  // Loopback by default: on one machine (`npm start`, `blossom cluster`) the gateway reaches users
  // over loopback, and without it every client through the gateway would share one address (and
  // one sign-up budget). Kubernetes sets the pod network (deploy/k8s/base/kustomization.yaml).
  USERS_TRUSTED_PROXIES: Type.String({
    default: "loopback",
    description:
      "comma-separated addresses or CIDR ranges (or loopback, linklocal, uniquelocal) of the proxies in front of the users service, the gateway's among them, whose X-Forwarded-For is believed for the client address of the limits; none = trust nobody",
  }),
  // Platform-wide, declared by the platform for the gateway too; declared here as well (the same
  // constraint) so that the users service gets it in its own settings.
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: "^rediss?://",
      description:
        "Redis shared by gateway replicas for rate-limit counters and by users replicas for login and sign-up limits; unset = in memory",
    }),
  ),
};

export type UsersSettingsSchema = typeof usersSettings;
/** The users service's settings as `context.settings` holds them. */
export type UsersSettings = Settings<UsersSettingsSchema>;

/** What the users service derives from its settings, once, when it is created. */
export interface UsersConfig {
  /** The configured signing key; unset outside production means "generate and keep one in the database". */
  signingKey: Ed25519PrivateJwk | undefined;
  limits: UsersLimits;
  /** Proxies whose X-Forwarded-For is believed (empty: the client is the connection's peer). */
  trustedProxies: string[];
}

export interface UsersLimits {
  /** Failed logins per (account, client address), and the growing lock past them. */
  login: {
    maxFailures: number;
    /** Failures per account from every address, before unknown addresses are refused. */
    accountMaxFailures: number;
    windowSeconds: number;
    lockSeconds: number;
    maxLockSeconds: number;
  };
  /** Failed logins per client address across accounts. */
  loginAddress: { maxFailures: number; windowSeconds: number };
  /** Sign-ups per client address. */
  signUp: { max: number; windowSeconds: number };
}

/**
 * What needs parsing or checking across variables, from the settings the host resolved: the
 * signing key (a private Ed25519 JWK), the trusted proxies, and the limits. Pure; throws one error
 * listing every problem, each naming its variable and never quoting a secret.
 */
export function usersConfig(settings: UsersSettings): UsersConfig {
  const problems: string[] = [];
  let signingKey: Ed25519PrivateJwk | undefined;
  if (settings.USERS_SIGNING_KEY !== undefined) {
    const parsed = parseSigningKey(settings.USERS_SIGNING_KEY);
    if (parsed.ok) signingKey = parsed.jwk;
    else problems.push(`USERS_SIGNING_KEY ${parsed.problem}`);
  }
  if (settings.USERS_LOGIN_LOCK_MAX_SECONDS < settings.USERS_LOGIN_LOCK_SECONDS)
    problems.push("USERS_LOGIN_LOCK_MAX_SECONDS: must be at least USERS_LOGIN_LOCK_SECONDS");
  const trustedProxies = settings.USERS_TRUSTED_PROXIES.split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "" && entry !== "none");
  try {
    proxyAddr.compile(trustedProxies);
  } catch (error) {
    problems.push(`USERS_TRUSTED_PROXIES: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new Error(`invalid users settings:\n  ${problems.join("\n  ")}`);
  return {
    signingKey,
    limits: {
      login: {
        maxFailures: settings.USERS_LOGIN_MAX_FAILURES,
        accountMaxFailures: settings.USERS_LOGIN_ACCOUNT_MAX_FAILURES,
        windowSeconds: settings.USERS_LOGIN_FAILURE_WINDOW_SECONDS,
        lockSeconds: settings.USERS_LOGIN_LOCK_SECONDS,
        maxLockSeconds: settings.USERS_LOGIN_LOCK_MAX_SECONDS,
      },
      loginAddress: {
        maxFailures: settings.USERS_LOGIN_ADDRESS_MAX_FAILURES,
        windowSeconds: settings.USERS_LOGIN_ADDRESS_WINDOW_SECONDS,
      },
      signUp: {
        max: settings.USERS_SIGNUP_MAX_PER_ADDRESS,
        windowSeconds: settings.USERS_SIGNUP_WINDOW_SECONDS,
      },
    },
    trustedProxies,
  };
}

/**
 * What production refuses: no signing key (production never generates one: every replica must
 * sign with the same key, kept in the platform's secret store), a malformed one, a weak
 * default admin password, the development service secret (anyone can read it in the source,
 * and mint credentials with it), and password hashes cheaper than `PASSWORD_HASH_COST` (a saving
 * for test suites only). Each message starts with the variable's name and never quotes its value.
 */
export function checkUsersProduction(settings: UsersSettings): string[] {
  const problems: string[] = [];
  const key = settings.USERS_SIGNING_KEY;
  if (key === undefined || key.trim() === "") {
    problems.push(
      "USERS_SIGNING_KEY is not set: production signs access tokens only with a key you provide (a private Ed25519 JWK as JSON)",
    );
  } else {
    const parsed = parseSigningKey(key);
    if (!parsed.ok) problems.push(`USERS_SIGNING_KEY ${parsed.problem}`);
  }
  problems.push(...serviceSecretProblems(settings.BLOSSOM_SERVICE_SECRET));
  if (settings.USERS_PASSWORD_HASH_COST < PASSWORD_HASH_COST)
    problems.push(
      `USERS_PASSWORD_HASH_COST is below ${PASSWORD_HASH_COST}: cheaper password hashes are for tests and refused in production`,
    );
  const adminPassword = settings.BLOSSOM_ADMIN_PASSWORD;
  if (adminPassword !== undefined && isWeakAdminPassword(adminPassword)) {
    problems.push(
      "BLOSSOM_ADMIN_PASSWORD is weak (a well-known default, or under 12 characters): production refuses it, and creates no default admin anyway",
    );
  }
  return problems;
}
