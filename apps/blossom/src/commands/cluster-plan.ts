import { GATEWAY, GATEWAY_DEFAULT_METRICS_PORT, RUNNABLE_NAMES, SERVICE_NAMES } from "../topology.js";

/**
 * The order `blossom cluster` brings instances up in: users first (every service fetches its
 * JWKS and service tokens from it), then the other services, then the gateway, which answers
 * ready only when its upstreams are. Shutdown goes the other way.
 */
export const CLUSTER_TIERS: readonly (readonly string[])[] = [
  ["users"],
  ["inventory", "payments", "notifications", "orders"],
  [GATEWAY],
];

export const DEFAULT_REPLICAS = 2;
const MAX_REPLICAS = 16;

/** One process the cluster runs: `orders#2` is the second replica of orders. */
export interface PlannedInstance {
  service: string;
  /** 1-based replica number. */
  replica: number;
  label: string;
  /** Port to listen on: 0 (any free port) for services, consecutive ports for the gateway. */
  port: number;
}

/**
 * Reads `--replicas`: `orders=3,inventory=2`, optionally with a bare number for every other
 * runnable (`1,orders=2`). Unnamed runnables get `DEFAULT_REPLICAS`.
 * @throws TypeError naming the bad entry.
 */
export function parseReplicas(value: string | undefined): Map<string, number> {
  const entries = (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  let fallback = DEFAULT_REPLICAS;
  const named = new Map<string, number>();
  for (const entry of entries) {
    const [name, count] = entry.includes("=") ? entry.split("=", 2) : [undefined, entry];
    const replicas = Number(count);
    if (!(Number.isInteger(replicas) && replicas >= 1 && replicas <= MAX_REPLICAS)) {
      throw new TypeError(`--replicas "${entry}": the count must be an integer from 1 to ${MAX_REPLICAS}`);
    }
    if (name === undefined) {
      fallback = replicas;
      continue;
    }
    if (!RUNNABLE_NAMES.includes(name.trim())) {
      throw new TypeError(`--replicas "${entry}": unknown service (one of ${RUNNABLE_NAMES.join(", ")})`);
    }
    named.set(name.trim(), replicas);
  }
  return new Map(RUNNABLE_NAMES.map((name) => [name, named.get(name) ?? fallback]));
}

/** Every instance, tier by tier; gateway replicas listen on `gatewayPort`, `gatewayPort + 1`, … */
export function planInstances(replicas: ReadonlyMap<string, number>, gatewayPort: number): PlannedInstance[] {
  return CLUSTER_TIERS.flat().flatMap((service) =>
    Array.from({ length: replicas.get(service) ?? DEFAULT_REPLICAS }, (_, index) => ({
      service,
      replica: index + 1,
      label: `${service}#${index + 1}`,
      port: service === GATEWAY && gatewayPort !== 0 ? gatewayPort + index : 0,
    })),
  );
}

/** What every child shares: the servers, and how instances find each other. */
export interface ClusterServers {
  natsUrl: string;
  redisUrl: string;
  prefix: string;
  /** Per service: its database URL. */
  databases: ReadonlyMap<string, string>;
  /** LOG_FORMAT of the children (`pretty` when the cluster writes to a terminal). */
  logFormat: string;
}

/**
 * The environment of one child: the cluster's own, without the per-instance settings that would
 * make replicas collide (ports) or bypass the instance bucket (`<SERVICE>_URL`), plus the
 * servers, its port and its database.
 */
export function childEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  instance: PlannedInstance,
  servers: ClusterServers,
): Record<string, string> {
  const env: Record<string, string> = {};
  const dropped = new Set(["PORT", "DATABASE_URL", "GATEWAY_PORT", "GATEWAY_METRICS_PORT"]);
  for (const name of SERVICE_NAMES) {
    const prefix = name.toUpperCase();
    for (const suffix of ["PORT", "URL", "DATABASE_URL"]) dropped.add(`${prefix}_${suffix}`);
  }
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !dropped.has(name)) env[name] = value;
  }
  Object.assign(env, {
    NATS_URL: servers.natsUrl,
    REDIS_URL: servers.redisUrl,
    BLOSSOM_NATS_PREFIX: servers.prefix,
    BLOSSOM_DISCOVERY: "nats",
    LOG_FORMAT: servers.logFormat,
    PORT: String(instance.port),
  });
  // Gateway replicas share the machine: each its own metrics listener, the next port up.
  if (instance.service === GATEWAY) {
    const basePort = Number(base.GATEWAY_METRICS_PORT ?? GATEWAY_DEFAULT_METRICS_PORT);
    env.GATEWAY_METRICS_PORT = String(basePort === 0 ? 0 : basePort + instance.replica - 1);
  }
  const database = servers.databases.get(instance.service);
  if (database !== undefined) env[`${instance.service.toUpperCase()}_DATABASE_URL`] = database;
  return env;
}

/** Delay before restarting an instance after its `crashes`-th crash in a row: 0.5 s, 1 s, 2 s, … 15 s. */
export function restartDelayMs(crashes: number): number {
  return Math.min(500 * 2 ** Math.max(crashes - 1, 0), 15_000);
}
