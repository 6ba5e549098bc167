import { type InstanceBucket, NatsKvDiscovery } from "@blossom/client";
import { ensurePostgresDatabase, maskPassword, withDatabaseName } from "@blossom/store";
import type { PlatformConfig } from "../config.js";
import { serviceSetting } from "../config.js";
import { loggerFactory } from "../logging.js";
import { GATEWAY, GATEWAY_DEFAULT_PORT, SERVICE_NAMES } from "../topology.js";
import { MAX_FAST_CRASHES, SupervisedInstance } from "./cluster-instance.js";
import { CLUSTER_TIERS, childEnvironment, parseReplicas, planInstances } from "./cluster-plan.js";
import { checkServers, requiredServers } from "./cluster-preflight.js";
import { formatClusterTable } from "./cluster-table.js";
import { UsageError } from "./migrate.js";

export const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** How long one tier of instances may take to become ready (migrations, a cold tsx cache). */
const TIER_READY_TIMEOUT_MS = 180_000;
const POLL_MS = 100;

/**
 * `blossom cluster [--replicas orders=3,inventory=2]`: every service and the gateway as OS
 * processes of their own, N replicas each, on one machine: a database per service on the
 * PostgreSQL server of BLOSSOM_POSTGRES_URL, JetStream at NATS_URL, Redis at REDIS_URL, instances
 * finding each other in the NATS instance bucket. Brings them up in dependency order, prints
 * every instance once all are ready, restarts a crashed one, and stops them in reverse order on
 * SIGINT/SIGTERM.
 */
export async function clusterCommand(
  config: PlatformConfig,
  replicasArgument: string | undefined,
  /** The environment the children inherit (less what `childEnvironment` drops). */
  environment: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  let replicas: Map<string, number>;
  try {
    replicas = parseReplicas(replicasArgument);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const started = performance.now();
  const log = loggerFactory(config)("cluster");
  const postgresUrl = config.BLOSSOM_POSTGRES_URL ?? DEFAULT_POSTGRES_URL;
  const natsUrl = config.NATS_URL ?? DEFAULT_NATS_URL;
  const redisUrl = config.REDIS_URL ?? DEFAULT_REDIS_URL;
  const prefix = config.BLOSSOM_NATS_PREFIX;

  // Say which server is missing and how to start it, rather than let twelve children fail.
  const unreachable = await checkServers(requiredServers({ postgresUrl, natsUrl, redisUrl }));
  if (unreachable.length > 0) throw new Error(`the cluster needs these servers:\n${unreachable.join("\n")}`);
  const databases = await prepareDatabases(config, postgresUrl, prefix);
  let bucket: InstanceBucket;
  try {
    // On demand: the CLI module is loaded by `npm start` too, which has no NATS.
    const { InstanceBucket } = await import("@blossom/client/nats");
    bucket = await InstanceBucket.open({ url: natsUrl, prefix, name: "blossom cluster" });
  } catch (error) {
    throw new Error(
      `NATS at ${natsUrl} has no usable JetStream (${(error as Error).message}): start nats-server with -js`,
    );
  }
  const registry = new NatsKvDiscovery(bucket, {
    onError: (error) => log.warn({ err: error }, "instance bucket"),
  });
  await registry.start();

  const tty = process.stdout.isTTY === true;
  const logFormat = config.LOG_FORMAT === "auto" ? (tty ? "pretty" : "json") : config.LOG_FORMAT;
  const gatewayPort = serviceSetting(config, GATEWAY, "PORT") ?? config.PORT ?? GATEWAY_DEFAULT_PORT;
  const plan = planInstances(replicas, gatewayPort);
  const labelWidth = Math.max(...plan.map((instance) => instance.label.length));
  // The same node, loader flags and entry point as this process: tsx from sources, or built JS.
  const entry = process.argv[1] ?? "";
  const output = new ChildOutput(tty, labelWidth);
  let clusterReady = false;
  let stopping: Promise<void> | undefined;

  const instances: SupervisedInstance[] = plan.map(
    (planned) =>
      new SupervisedInstance(
        planned,
        [process.execPath, ...process.execArgv, entry, "start", planned.service],
        childEnvironment(environment, planned, { natsUrl, redisUrl, prefix, databases, logFormat }),
        {
          line: (instance, line, stream) => output.write(instance.label, line, stream),
          crashed(instance, exit, delayMs) {
            // Out of every instance list now, rather than one TTL later.
            for (const record of registry.records(instance.plan.service)) {
              if (record.pid === exit.pid) bucket.kv.delete(record.key).catch(() => {});
            }
            const how = exit.signal ?? `code ${exit.code}`;
            if (delayMs === undefined) {
              log.error(
                { replica: instance.label, pid: exit.pid, exit: how },
                `${instance.label} crashed ${MAX_FAST_CRASHES + 1} times in a row soon after starting: left down (its output is above)`,
              );
              const left = instances.filter(
                (other) => other.plan.service === instance.plan.service && other.state !== "failed",
              );
              if (clusterReady && left.length === 0)
                void shutdown(`no ${instance.plan.service} instance left`, 1);
              return;
            }
            log.warn(
              { replica: instance.label, pid: exit.pid, exit: how, restartInMs: delayMs },
              `${instance.label} exited (${how}); restarting in ${delayMs} ms`,
            );
          },
          restarted(instance) {
            if (!clusterReady) return;
            waitReady(instance, registry, TIER_READY_TIMEOUT_MS).then(
              () =>
                log.info(
                  { replica: instance.label, pid: instance.pid, url: instance.url },
                  `${instance.label} is back`,
                ),
              () => {},
            );
          },
        },
      ),
  );

  const shutdown = (reason: string, code: number): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason }, "stopping the cluster");
      let clean = true;
      // Reverse dependency order: the gateway first, users last.
      for (const tier of [...CLUSTER_TIERS].reverse()) {
        const results = await Promise.all(
          instances
            .filter((instance) => tier.includes(instance.plan.service))
            .map((instance) => instance.stop(config.SHUTDOWN_TIMEOUT_MS + 5_000)),
        );
        clean &&= results.every(Boolean);
      }
      registry.close();
      await bucket.close();
      log.info(clean ? "cluster stopped" : "cluster stopped; some instances had to be killed");
      log.flush?.();
      process.exit(clean ? code : 1);
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: killing every instance");
      for (const instance of instances) instance.kill();
      process.exit(1);
    }
    void shutdown(signal, 0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Whatever ends this process, no child outlives it (they have process groups of their own).
  process.on("exit", () => {
    for (const instance of instances) instance.kill();
  });

  try {
    for (const tier of CLUSTER_TIERS) {
      const inTier = instances.filter((instance) => tier.includes(instance.plan.service));
      // First replicas alone: they run the migrations and the seeding, which then find nothing to do
      // for the others (Kysely's migration lock makes it safe anyway; this also spares the CPU).
      for (const group of [
        inTier.filter((one) => one.plan.replica === 1),
        inTier.filter((one) => one.plan.replica > 1),
      ]) {
        for (const instance of group) instance.start();
        await Promise.all(group.map((instance) => waitReady(instance, registry, TIER_READY_TIMEOUT_MS)));
      }
    }
  } catch (error) {
    if (stopping) return;
    log.error({ err: error }, "the cluster did not start");
    await shutdown((error as Error).message, 1);
    return;
  }
  if (stopping) return;
  clusterReady = true;
  const rows = instances.map((instance) => ({
    instance: instance.label,
    pid: instance.pid,
    url: instance.url,
    database: instance.plan.service === GATEWAY ? "-" : databaseName(databases.get(instance.plan.service)),
  }));
  process.stdout.write(
    formatClusterTable(rows, (performance.now() - started) / 1000, [
      `bus ${natsUrl} (prefix ${prefix}) · discovery NATS bucket ${bucket.name} · rate limits ${redisUrl}`,
      `API: ${instances.find((instance) => instance.plan.service === GATEWAY)?.url ?? "-"}   Ctrl-C stops everything`,
    ]),
  );
}

/**
 * One database per service on the server (`<prefix>_<service>`, created if missing), unless
 * `<SERVICE>_DATABASE_URL` names one. Migrations are left to the services themselves.
 */
async function prepareDatabases(
  config: PlatformConfig,
  postgresUrl: string,
  prefix: string,
): Promise<Map<string, string>> {
  const databases = new Map<string, string>();
  for (const service of SERVICE_NAMES) {
    const configured = serviceSetting(config, service, "DATABASE_URL");
    if (configured !== undefined) {
      databases.set(service, configured);
      continue;
    }
    const name = `${prefix}_${service}`;
    try {
      await ensurePostgresDatabase(postgresUrl, name);
    } catch (error) {
      throw new Error(
        `PostgreSQL at ${maskPassword(postgresUrl)} (BLOSSOM_POSTGRES_URL) could not create database ${name}: ${(error as Error).message}`,
      );
    }
    databases.set(service, withDatabaseName(postgresUrl, name));
  }
  return databases;
}

function databaseName(url: string | undefined): string {
  if (url === undefined) return "-";
  return decodeURIComponent(new URL(url).pathname.slice(1)) || "-";
}

/**
 * Ready means registered in the instance bucket under the child's pid and answering
 * `/health/ready` with 200. Rejects if the instance gave up or the time ran out.
 */
async function waitReady(
  instance: SupervisedInstance,
  registry: NatsKvDiscovery,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (instance.state === "failed") throw new Error(`${instance.label} keeps crashing at start-up`);
    if (instance.state === "stopping" || instance.state === "stopped") throw new Error("stopped");
    const pid = instance.pid;
    const record =
      pid === 0 ? undefined : registry.records(instance.plan.service).find((entry) => entry.pid === pid);
    if (record !== undefined && (await answersReady(record.url))) {
      // Checked again: the pid may have died between the lookup and the answer.
      if (instance.pid === pid) {
        instance.markReady(record.url);
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${instance.label} was not ready within ${timeoutMs / 1000} s`);
}

async function answersReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * The children's output: on a terminal each line is prefixed with its instance (`orders#1 | …`);
 * piped, the JSON lines pass through untouched (each already names its service and pid). Each
 * child's own "Blossom is ready" table is left out: the cluster prints one for all.
 */
class ChildOutput {
  readonly #tty: boolean;
  readonly #width: number;
  readonly #inTable = new Set<string>();

  constructor(tty: boolean, width: number) {
    this.#tty = tty;
    this.#width = width;
  }

  write(label: string, line: string, stream: "stdout" | "stderr"): void {
    const source = `${label}/${stream}`;
    if (line.startsWith("Blossom is ready")) {
      this.#inTable.add(source);
      return;
    }
    if (this.#inTable.has(source)) {
      if (line.startsWith("  ") || line === "") return;
      this.#inTable.delete(source);
    }
    // Piped, JSON lines name their instance themselves; anything else (a crash's stack trace, a
    // warning of Node's) would be anonymous, so it is prefixed like on a terminal.
    const text =
      this.#tty || !line.startsWith("{") ? `${label.padEnd(this.#width)} | ${line}\n` : `${line}\n`;
    (stream === "stdout" ? process.stdout : process.stderr).write(text);
  }
}
