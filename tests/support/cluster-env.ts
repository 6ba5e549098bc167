import { GENEROUS_USERS_LIMITS } from "@blossom/testkit";

/**
 * The environment of a test's `blossom cluster` on the CI servers (PostgreSQL, NATS JetStream,
 * Redis): its own NATS prefix, a 2 s ack wait so redeliveries come quickly, the seeded catalog,
 * the gateway on a free port, instances at `warn`, and limits high enough for a test's load.
 * `overrides` come last (a fixed gateway port, other log levels, fault injection, …).
 */
export function clusterEnv(
  servers: { postgresUrl: string; natsUrl: string; prefix: string },
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    BLOSSOM_POSTGRES_URL: servers.postgresUrl,
    NATS_URL: servers.natsUrl,
    REDIS_URL: process.env.BLOSSOM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
    BLOSSOM_NATS_PREFIX: servers.prefix,
    BLOSSOM_NATS_ACK_WAIT_MS: "2000",
    GATEWAY_PORT: "0",
    LOG_LEVEL: "warn",
    BLOSSOM_SEED: "true",
    GATEWAY_RATE_LIMIT_PER_MINUTE: "1000000",
    GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE: "100000",
    ...GENEROUS_USERS_LIMITS,
    ...overrides,
  };
}
