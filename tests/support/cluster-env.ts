import { NatsBus } from "@blossom/bus/nats";
import { InstanceBucket } from "@blossom/client/nats";
import { dropPostgresDatabase } from "@blossom/store";
import { type BlossomProcess, GENEROUS_USERS_LIMITS, isAlive } from "@blossom/testkit";
import { SERVICES } from "./topologies.js";

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

/**
 * Stops a test's `blossom cluster` (SIGINT, SIGKILL after 30 s), kills any of its instances
 * still alive (a stopped or hung one ignores the cluster's SIGTERM), then removes what it left on
 * the servers: its instance bucket, its NATS streams and its databases.
 */
export async function stopClusterAndClean(
  cluster: BlossomProcess | undefined,
  pids: Iterable<number>,
  servers: { postgresUrl: string; natsUrl: string; prefix: string },
): Promise<void> {
  if (cluster && cluster.child.exitCode === null) {
    cluster.child.kill("SIGINT");
    const stopped = await Promise.race([
      cluster.exited.then(() => true),
      new Promise<boolean>((done) => setTimeout(() => done(false), 30_000)),
    ]);
    if (!stopped) cluster.child.kill("SIGKILL");
  }
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  const bucket = await InstanceBucket.open({ url: servers.natsUrl, prefix: servers.prefix });
  await bucket.destroy().catch(() => {});
  await bucket.close();
  const bus = await NatsBus.connect({ url: servers.natsUrl, prefix: servers.prefix });
  await bus.destroyStreams();
  await bus.close();
  for (const service of SERVICES)
    await dropPostgresDatabase(servers.postgresUrl, `${servers.prefix}_${service}`).catch(() => {});
}
