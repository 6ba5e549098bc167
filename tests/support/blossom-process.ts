/**
 * The platform-level test environment on top of `@blossom/testkit`'s process helpers
 * (`spawnBlossom`, `waitForReady`, `killAll`, `deathOf`, `freePort`).
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

/** One instance of the ready table `blossom cluster` prints. */
export interface ClusterRow {
  instance: string;
  service: string;
  pid: number;
  url: string;
}

/** The instances of `blossom cluster`'s ready table in its output (empty before it is ready). */
export function readClusterTable(output: string): ClusterRow[] {
  const start = output.indexOf("Blossom cluster is ready");
  if (start < 0) return [];
  return [...output.slice(start).matchAll(/^ {2}((\w+)#\d+)\s+(\d+)\s+(http:\/\/\S+)/gm)].map((match) => ({
    instance: match[1] ?? "",
    service: match[2] ?? "",
    pid: Number(match[3]),
    url: match[4] ?? "",
  }));
}
