/**
 * Environment variables for a Blossom platform under test or under a benchmark. The kit never
 * imports apps/ or services/: these are the variables' names and values, as a shell would set them.
 */

/**
 * The users service's login and sign-up budgets, raised far above what a test or a benchmark
 * spends: every client of a test shares 127.0.0.1, so the per-address budgets meant for abuse
 * (5 sign-ups, 30 failed logins per address) would refuse ordinary test sign-ups. Suites that test
 * the limits set their own.
 */
export const GENEROUS_USERS_LIMITS = {
  USERS_LOGIN_MAX_FAILURES: "100000",
  USERS_LOGIN_ACCOUNT_MAX_FAILURES: "10000",
  USERS_LOGIN_ADDRESS_MAX_FAILURES: "100000",
  USERS_SIGNUP_MAX_PER_ADDRESS: "100000",
} as const;

/**
 * The users service's cheapest password hashes (scrypt N=2^10 instead of 2^15: about 2 ms a hash
 * instead of 100 ms or more, and 1 MiB instead of 32): suites sign up and log in hundreds of
 * times, and a platform hashes twice as it starts (the seeded admin, the dummy hash of unknown
 * emails). A stored hash names its cost, so nothing else changes; production refuses it, and
 * the production cost has its own tests (services/users/src/domain/password.test.ts).
 */
export const TEST_PASSWORD_HASH_COST = { USERS_PASSWORD_HASH_COST: "10" } as const;

/**
 * Variables for a platform under test: the gateway on `gatewayPort`, every service on a free
 * port, quiet logs, rate limits out of the way (every test client shares 127.0.0.1, so the
 * per-IP login budget meant for brute force would throttle ordinary test sign-ins), the users
 * service's own among them, and cheap password hashes.
 */
export function testEnv(gatewayPort: number): Record<string, string> {
  return {
    GATEWAY_RATE_LIMIT_PER_MINUTE: "100000",
    GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE: "100000",
    ...GENEROUS_USERS_LIMITS,
    ...TEST_PASSWORD_HASH_COST,

    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_METRICS_PORT: "0",
    USERS_PORT: "0",
    INVENTORY_PORT: "0",
    ORDERS_PORT: "0",
    PAYMENTS_PORT: "0",
    NOTIFICATIONS_PORT: "0",
    LOG_LEVEL: "warn",
  };
}

/** Variables of this shell that configure a platform, whatever their value. */
const PLATFORM_VARIABLES = new Set([
  "NODE_ENV",
  "PORT",
  "DATABASE_URL",
  "NATS_URL",
  "REDIS_URL",
  "BLOSSOM_SEED",
  "BLOSSOM_CRASH_POINTS",
  "NODE_OPTIONS",
]);
const PLATFORM_PREFIX = /^(GATEWAY|USERS|INVENTORY|ORDERS|PAYMENTS|NOTIFICATIONS|OTEL)_/;

/**
 * Every platform variable set in this process's environment, emptied: spread first into the
 * environment of a spawned `blossom`, so that stray settings of the shell (a NATS_URL would join a
 * real bus) do not leak into it.
 */
export function clearedPlatformEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.keys(env)
      .filter((name) => PLATFORM_VARIABLES.has(name) || PLATFORM_PREFIX.test(name))
      .map((name) => [name, ""]),
  );
}
