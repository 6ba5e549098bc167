import { DEVELOPMENT_SERVICE_SECRET, serviceSecretProblems } from "@blossom/auth";
import proxyAddr from "@fastify/proxy-addr";
import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { isWeakAdminPassword } from "./domain/admin.js";
import { type Ed25519PrivateJwk, parseSigningKey } from "./domain/signing-key.js";

/** The budgets of the limits when their variable is unset (outside NODE_ENV=test). */
export const LIMIT_DEFAULTS = {
  loginMaxFailures: 5,
  loginAddressMaxFailures: 30,
  signUpMaxPerAddress: 5,
} as const;

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
  // Login and sign-up limits (see README "Login and sign-up limits"). The three budgets have no
  // schema default: unset, they take the defaults below, except under NODE_ENV=test, where
  // every test client shares 127.0.0.1 and they are off unless a test sets them.
  USERS_LOGIN_MAX_FAILURES: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: `failed logins per account and client address within USERS_LOGIN_FAILURE_WINDOW_SECONDS before that pair is locked (default ${LIMIT_DEFAULTS.loginMaxFailures}; off under NODE_ENV=test unless set)`,
    }),
  ),
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
  USERS_LOGIN_ADDRESS_MAX_FAILURES: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: `failed logins per client address, whatever the accounts, within USERS_LOGIN_ADDRESS_WINDOW_SECONDS; past it the address's logins are refused until the window ends (default ${LIMIT_DEFAULTS.loginAddressMaxFailures}; off under NODE_ENV=test unless set)`,
    }),
  ),
  USERS_LOGIN_ADDRESS_WINDOW_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 600,
    description: "window of USERS_LOGIN_ADDRESS_MAX_FAILURES",
  }),
  USERS_SIGNUP_MAX_PER_ADDRESS: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: `sign-ups per client address within USERS_SIGNUP_WINDOW_SECONDS (default ${LIMIT_DEFAULTS.signUpMaxPerAddress}; off under NODE_ENV=test unless set)`,
    }),
  ),
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
  // constraint) so that the launcher hands it to the users service (`settingsOf`).
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: "^rediss?://",
      description:
        "Redis shared by gateway replicas for rate-limit counters and by users replicas for login and sign-up limits; unset = in memory",
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
  /** Each limit, or undefined when it is off. */
  limits: UsersLimits;
  /** Proxies whose X-Forwarded-For is believed (empty: the client is the connection's peer). */
  trustedProxies: string[];
  /** Where the limit counters are shared; unset = this process's memory. */
  redisUrl: string | undefined;
}

export interface UsersLimits {
  /** Failed logins per (account, client address), and the growing lock past them. */
  login:
    | {
        maxFailures: number;
        /** Failures per account from every address, before unknown addresses are refused. */
        accountMaxFailures: number;
        windowSeconds: number;
        lockSeconds: number;
        maxLockSeconds: number;
      }
    | undefined;
  /** Failed logins per client address across accounts. */
  loginAddress: { maxFailures: number; windowSeconds: number } | undefined;
  /** Sign-ups per client address. */
  signUp: { max: number; windowSeconds: number } | undefined;
}

const cache = new WeakMap<object, Map<string, UsersSettings>>();

/**
 * The typed settings, from `context.settings` (already validated by the launcher; validated
 * again here for hosts built directly, e.g. in tests), for `environment` (`context.environment`:
 * under "test", an unset budget means that limit is off). Throws one error listing every problem.
 */
export function readUsersSettings(
  settings: Readonly<Record<string, unknown>>,
  environment = "development",
): UsersSettings {
  const cached = cache.get(settings)?.get(environment);
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
  if (values.USERS_LOGIN_LOCK_MAX_SECONDS < values.USERS_LOGIN_LOCK_SECONDS)
    problems.push("USERS_LOGIN_LOCK_MAX_SECONDS: must be at least USERS_LOGIN_LOCK_SECONDS");
  const trustedProxies = values.USERS_TRUSTED_PROXIES.split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "" && entry !== "none");
  try {
    proxyAddr.compile(trustedProxies);
  } catch (error) {
    problems.push(`USERS_TRUSTED_PROXIES: ${(error as Error).message}`);
  }
  if (problems.length > 0)
    throw new Error(`invalid users settings:\n  ${[...new Set(problems)].join("\n  ")}`);
  // Under NODE_ENV=test an unset budget is off: test suites sign many users up and in from one
  // address (127.0.0.1), as the gateway's harness raises its own limits for the same reason.
  const budget = (value: number | undefined, fallback: number) =>
    value ?? (environment === "test" ? undefined : fallback);
  const loginMax = budget(values.USERS_LOGIN_MAX_FAILURES, LIMIT_DEFAULTS.loginMaxFailures);
  const addressMax = budget(values.USERS_LOGIN_ADDRESS_MAX_FAILURES, LIMIT_DEFAULTS.loginAddressMaxFailures);
  const signUpMax = budget(values.USERS_SIGNUP_MAX_PER_ADDRESS, LIMIT_DEFAULTS.signUpMaxPerAddress);
  const typed: UsersSettings = {
    accessTokenTtlSeconds: values.USERS_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: values.USERS_REFRESH_TOKEN_TTL_SECONDS,
    serviceTokenTtlSeconds: values.USERS_SERVICE_TOKEN_TTL_SECONDS,
    serviceSecret: values.BLOSSOM_SERVICE_SECRET,
    signingKey,
    adminPassword: values.BLOSSOM_ADMIN_PASSWORD,
    limits: {
      login:
        loginMax === undefined
          ? undefined
          : {
              maxFailures: loginMax,
              accountMaxFailures: values.USERS_LOGIN_ACCOUNT_MAX_FAILURES,
              windowSeconds: values.USERS_LOGIN_FAILURE_WINDOW_SECONDS,
              lockSeconds: values.USERS_LOGIN_LOCK_SECONDS,
              maxLockSeconds: values.USERS_LOGIN_LOCK_MAX_SECONDS,
            },
      loginAddress:
        addressMax === undefined
          ? undefined
          : { maxFailures: addressMax, windowSeconds: values.USERS_LOGIN_ADDRESS_WINDOW_SECONDS },
      signUp:
        signUpMax === undefined
          ? undefined
          : { max: signUpMax, windowSeconds: values.USERS_SIGNUP_WINDOW_SECONDS },
    },
    trustedProxies,
    redisUrl: values.REDIS_URL,
  };
  const perEnvironment = cache.get(settings) ?? new Map<string, UsersSettings>();
  perEnvironment.set(environment, typed);
  cache.set(settings, perEnvironment);
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
