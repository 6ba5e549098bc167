/**
 * The cluster run: `blossom cluster --replicas <replicas>`, one OS process per service instance,
 * on fresh databases of the local PostgreSQL, a fresh NATS prefix and instance bucket, all dropped
 * when it stops.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { NatsBus } from "@blossom/bus/nats";
import { InstanceBucket } from "@blossom/client/nats";
import { dropPostgresDatabase } from "@blossom/store";
import { clearedPlatformEnv, isAlive, spawnBlossom, waitForClusterReady } from "@blossom/testkit";
import { checkServers, requiredServers } from "../../apps/blossom/src/commands/cluster-preflight.js";
import { SERVICE_NAMES } from "../../apps/blossom/src/topology.js";
import { benchEntry } from "../blossom-build.js";
import { cpuProfileArgs, cpuSeconds, processTree } from "../processes.js";
import { errorMessage, withTimeout } from "../report.js";
import type { BenchServers } from "../settings.js";
import { serverCpu } from "./cpu.js";
import { type Platform, type PlatformSetup, platformEnv } from "./platform.js";

const CLUSTER_READY_TIMEOUT_MS = 300_000;
const CLUSTER_STOP_TIMEOUT_MS = 60_000;

let clusters = 0;

/** Why a cluster cannot run here (the servers that do not answer, named by their BENCH_* variable); undefined when it can. */
export async function unreachableServers(servers: BenchServers): Promise<string | undefined> {
  const variables: Record<string, string> = {
    BLOSSOM_POSTGRES_URL: "BENCH_POSTGRES_URL",
    NATS_URL: "BENCH_NATS_URL",
    REDIS_URL: "BENCH_REDIS_URL",
  };
  const unreachable = await checkServers(
    requiredServers({ postgresUrl: servers.postgres, natsUrl: servers.nats, redisUrl: servers.redis }).map(
      (server) => ({ ...server, variable: variables[server.variable] ?? server.variable }),
    ),
  );
  return unreachable.length > 0 ? unreachable.map((message) => message.split("\n")[0]).join("; ") : undefined;
}

/**
 * `blossom cluster --replicas <replicas>` on fresh databases, NATS prefix and instance bucket;
 * with `profileDir`, the supervisor and its instances (which inherit its node arguments) write
 * their CPU profiles there.
 */
export async function startCluster(
  replicas: string,
  setup: PlatformSetup,
  profileDir?: string,
): Promise<Platform> {
  const began = performance.now();
  const { servers } = setup.environment;
  clusters++;
  // Unique per run and cluster: databases, streams and the instance bucket are all named after it.
  const prefix = `bench_checkout_${process.pid}_${Date.now() % 1e8}_${clusters}`;
  const databases = SERVICE_NAMES.map((service) => `${prefix}_${service}`);
  const proc = spawnBlossom(
    ["cluster", "--replicas", replicas],
    {
      // Stray platform variables of this shell must not leak in.
      ...clearedPlatformEnv(),
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
      BLOSSOM_POSTGRES_URL: servers.postgres,
      NATS_URL: servers.nats,
      REDIS_URL: servers.redis,
      BLOSSOM_NATS_PREFIX: prefix,
      BLOSSOM_DATA_DIR: join(setup.dir, prefix),
      GATEWAY_PORT: "0",
      GATEWAY_METRICS_PORT: "0",
      ...platformEnv(setup),
    },
    cpuProfileArgs(profileDir),
    benchEntry(),
  );
  const supervisor = proc.child.pid ?? 0;
  const pids = new Set<number>();
  const stop = async (): Promise<string[]> => {
    for (const pid of processTree(supervisor)) pids.add(pid);
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      // SIGINT: the supervisor stops its instances gracefully, in reverse dependency order.
      proc.child.kill("SIGINT");
      const timer = setTimeout(() => proc.child.kill("SIGKILL"), CLUSTER_STOP_TIMEOUT_MS);
      await proc.exited;
      clearTimeout(timer);
    }
    // The instances have process groups of their own: a killed supervisor leaves them running.
    const leftover = [...pids].filter((pid) => pid !== supervisor && isAlive(pid));
    for (const pid of leftover) process.kill(pid, "SIGKILL");
    const notes = await removeClusterData(prefix, databases, setup);
    return leftover.length > 0
      ? [`cluster ${prefix}: killed ${leftover.length} instance(s) left running`, ...notes]
      : notes;
  };
  try {
    const rows = await waitForClusterReady(proc, CLUSTER_READY_TIMEOUT_MS);
    for (const row of rows) pids.add(row.pid);
    if (profileDir)
      process.stderr.write(
        `checkout: CPU profiles go to ${profileDir}, named by pid: ${rows.map((row) => `${row.pid} ${row.service}`).join(", ")}\n`,
      );
    const gateways = rows.filter((row) => row.service === "gateway").map((row) => row.url);
    if (gateways.length === 0)
      throw new Error(`no gateway in the cluster's table:\n${proc.output().slice(-3000)}`);
    return {
      pid: supervisor,
      rows,
      gateways,
      processes: rows.length + 1,
      startSeconds: (performance.now() - began) / 1000,
      // The supervisor and its children (the instances, restarted ones included).
      cpu: () => cpuSeconds(supervisor),
      serviceCpu: () => {
        // The pids of the ready table: a restarted instance is not followed (none is expected here).
        const byService = new Map<string, number>();
        for (const row of rows)
          byService.set(row.service, (byService.get(row.service) ?? 0) + cpuSeconds(row.pid));
        return byService;
      },
      serverCpu: () => serverCpu(servers.postgres, databases),
      stop,
    };
  } catch (error) {
    const notes = await stop();
    if (notes.length > 0) process.stderr.write(`checkout: ${notes.join("\n")}\n`);
    throw error;
  }
}

/** Deletes a stopped cluster's instance bucket, streams, databases and data directory; notes what failed. */
async function removeClusterData(
  prefix: string,
  databases: readonly string[],
  setup: PlatformSetup,
): Promise<string[]> {
  const { servers } = setup.environment;
  const notes: string[] = [];
  const attempt = async (what: string, work: () => Promise<unknown>) => {
    await withTimeout(work(), 20_000, what).catch((error: unknown) => {
      notes.push(`cluster ${prefix}: could not ${what}: ${errorMessage(error)}`);
    });
  };
  await attempt("delete its instance bucket", async () => {
    const bucket = await InstanceBucket.open({ url: servers.nats, prefix, name: "bench-checkout-cleanup" });
    try {
      await bucket.destroy();
    } finally {
      await bucket.close();
    }
  });
  await attempt("delete its streams", async () => {
    const bus = await NatsBus.connect({ url: servers.nats, prefix, name: "bench-checkout-cleanup" });
    try {
      await bus.destroyStreams();
    } finally {
      await bus.close();
    }
  });
  for (const database of databases)
    await attempt(`drop database ${database}`, () => dropPostgresDatabase(servers.postgres, database));
  await rm(join(setup.dir, prefix), { recursive: true, force: true });
  return notes;
}
