import { serviceSecretProblems } from "@blossom/auth";
import { parseServiceLocation } from "@blossom/client";
import { DEFAULT_OVERLOAD_CONCURRENCY } from "@blossom/gateway";

import { type AnyServiceDefinition, resolveSettings, type Settings } from "@blossom/host";
import { ConfigError, type FaultInjection, loadConfig } from "@blossom/runtime";
import { type Static, type TProperties, Type } from "@sinclair/typebox";
import { GATEWAY, GATEWAY_DEFAULT_METRICS_PORT, SERVICES } from "./topology.js";

const LogLevel = Type.Union(
  ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((level) => Type.Literal(level)),
  { description: "fatal, error, warn, info, debug, trace or silent" },
);

const env = (name: string) => name.toUpperCase();

function perServiceProperties(): TProperties {
  const properties: TProperties = {
    [`${env(GATEWAY)}_PORT`]: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 65535, description: "port of the gateway" }),
    ),
    [`${env(GATEWAY)}_LOG_LEVEL`]: Type.Optional(LogLevel),
  };
  for (const { definition } of SERVICES) {
    const name = env(definition.name);
    properties[`${name}_PORT`] = Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 65535,
        description: `port of the ${definition.name} service (0 = any free port)`,
      }),
    );
    properties[`${name}_DATABASE_URL`] = Type.Optional(
      Type.String({
        pattern: "^postgres(ql)?://",
        description: `PostgreSQL URL of the ${definition.name} database`,
      }),
    );
    properties[`${name}_URL`] = Type.Optional(
      Type.String({
        description: `comma-separated base URLs of the ${definition.name} instances (static discovery), or one dns+http://host:port (DNS discovery)`,
      }),
    );
    properties[`${name}_LOG_LEVEL`] = Type.Optional(LogLevel);
    properties[`${name}_FAULT_LATENCY_MS`] = Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 0,
      description: `chaos tests only: milliseconds added to every request of the ${definition.name} service but its probes`,
    });
    properties[`${name}_FAULT_ERROR_RATE`] = Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0,
      description: `chaos tests only: share (0..1) of the ${definition.name} service's requests answered 503 injected-fault`,
    });
  }
  return properties;
}

/**
 * The platform's own variables, and each service's port, URLs, log level and faults. Each
 * service's own settings are declared beside its code (`ServiceDefinition.settings`) and
 * resolved with them, service by service (`resolveSettings`).
 */
const PlatformSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal("development"), Type.Literal("production"), Type.Literal("test")], {
    default: "development",
    description: "development, test or production",
  }),
  HOST: Type.String({
    default: "127.0.0.1",
    description: "interface every server listens on (0.0.0.0 in containers)",
  }),
  PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      description: "port of the gateway (default 8080), or of the one service a process runs",
    }),
  ),
  BLOSSOM_DATA_DIR: Type.String({
    default: "./.blossom/data",
    description: "where embedded databases live, one directory per service",
  }),
  DATABASE_URL: Type.Optional(
    Type.String({
      pattern: "^postgres(ql)?://",
      description: "PostgreSQL URL when a process runs one service",
    }),
  ),
  NATS_URL: Type.Optional(
    Type.String({ pattern: "^(nats|tls)://", description: "NATS JetStream server; unset = in-process bus" }),
  ),
  BLOSSOM_NATS_PREFIX: Type.String({
    default: "blossom",
    pattern: "^[a-z][a-z0-9_]*$",
    description: "prefix of subjects and streams",
  }),
  BLOSSOM_SEED: Type.Optional(
    Type.Boolean({ description: "seed demo data (default: on outside production)" }),
  ),
  BLOSSOM_SERVICE: Type.Optional(
    Type.String({
      description: "what `blossom start` runs when given no names (comma-separated; unset = everything)",
    }),
  ),

  BLOSSOM_NATS_ACK_WAIT_MS: Type.Integer({
    minimum: 1000,
    default: 30_000,
    description: "how long JetStream waits for an ack before redelivering",
  }),
  BLOSSOM_DNS_REFRESH_MS: Type.Integer({
    minimum: 100,
    default: 5000,
    description: "how often the addresses of a dns+ <SERVICE>_URL are looked up again",
  }),
  BLOSSOM_POSTGRES_URL: Type.Optional(
    Type.String({
      pattern: "^postgres(ql)?://",
      description:
        "PostgreSQL server where `blossom cluster` creates a database per service (default postgres://postgres@127.0.0.1:5432/postgres)",
    }),
  ),
  BLOSSOM_DISCOVERY: Type.Union([Type.Literal("config"), Type.Literal("nats")], {
    default: "config",
    description:
      "config: instances from <SERVICE>_URL; nats: instances register in a NATS key-value bucket (needs NATS_URL)",
  }),
  // Read first by the tracing bootstrap (before this check runs); validated here like the rest.
  BLOSSOM_TRACE_BUFFER_SPANS: Type.Integer({
    minimum: 0,
    default: 10_000,
    description: "finished spans kept in memory for GET /api/ops/traces (0 = none)",
  }),
  BLOSSOM_CRASH_POINTS: Type.Optional(
    Type.String({
      description: "tests only: comma-separated <service>/<point> where the process kills itself",
    }),
  ),
  LOG_LEVEL: Type.Union(LogLevel.anyOf, { default: "info", description: LogLevel.description }),
  LOG_FORMAT: Type.Union([Type.Literal("auto"), Type.Literal("json"), Type.Literal("pretty")], {
    default: "auto",
    description: "json, pretty, or auto (pretty on a terminal)",
  }),
  BODY_LIMIT_BYTES: Type.Integer({
    minimum: 1024,
    default: 1_048_576,
    description: "largest request body (413 above)",
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    default: 15_000,
    description: "hard limit for a graceful stop",
  }),
  SHUTDOWN_DRAIN_DELAY_MS: Type.Integer({
    minimum: 0,
    default: 0,
    description: "wait between failing readiness and closing listeners (5000 on Kubernetes)",
  }),
  GATEWAY_CORS_ORIGINS: Type.String({
    default: "",
    description: "comma-separated origins allowed cross-origin access to the gateway; empty = none",
  }),
  GATEWAY_RATE_LIMIT_PER_MINUTE: Type.Integer({
    minimum: 1,
    default: 600,
    description: "gateway requests per minute per user (with a token) or per client IP (without)",
  }),
  GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE: Type.Integer({
    minimum: 1,
    default: 10,
    description: "POST /api/auth/login attempts per minute per client IP",
  }),
  GATEWAY_TRUSTED_PROXIES: Type.Optional(
    Type.String({
      description:
        "comma-separated addresses or CIDR ranges of the proxies in front of the gateway whose X-Forwarded-For is believed; unset = none",
    }),
  ),
  GATEWAY_MAX_IN_FLIGHT_PER_SERVICE: Type.Integer({
    minimum: 1,
    default: 256,
    description: "requests the gateway has in flight per upstream service before answering 503",
  }),
  GATEWAY_OVERLOAD_CONCURRENCY: Type.Integer({
    minimum: 1,
    default: DEFAULT_OVERLOAD_CONCURRENCY,
    description:
      "requests the gateway sends one upstream instance at once while the service's queue stands (overloaded; at other times, its 32 connections); past them they wait in the queue, briefly, then 503",
  }),
  BLOSSOM_GATEWAY_THREAD: Type.Union([Type.Literal("worker"), Type.Literal("main")], {
    default: "worker",
    description:
      "where the gateway runs when it shares a process with services: worker = a thread of its own (the process then uses two cores); main = the services' event loop",
  }),
  GATEWAY_METRICS_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: GATEWAY_DEFAULT_METRICS_PORT,
    description:
      "port of the gateway's internal listener for GET /metrics (0 = any free port); the public port answers 404 for /metrics",
  }),
  // Declared by the users service too, alike (same constraint and description), so that a bad
  // value is reported once.
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: "^rediss?://",
      description:
        "Redis shared by gateway replicas for rate-limit counters and by users replicas for login and sign-up limits; unset = in memory",
    }),
  ),
  ...perServiceProperties(),
});

/**
 * Every variable the platform reads, with its default: the platform's and each service's own
 * (names prefixed with the service). docs/configuration.md and the README's table come from here.
 */
export const ConfigSchema = Type.Object({ ...PlatformSchema.properties, ...serviceSettingsProperties() });

function serviceSettingsProperties(): TProperties {
  const properties: TProperties = {};
  for (const { definition } of SERVICES) Object.assign(properties, definition.settings);
  return properties;
}

export type PlatformConfig = Static<typeof PlatformSchema> & {
  /**
   * Each service's own settings, by service name: resolved once, here, for every service (before
   * anything starts), and handed to its host as they are.
   */
  readonly settings: ReadonlyMap<string, Settings<TProperties>>;
};

/**
 * Reads the configuration once; refuses settings that are unsafe in production. `runnables`
 * names what this process runs (default: everything): a process refuses only the settings of the
 * services it runs, so that each secret can go to the pods of its owner alone.
 */
export function readConfig(
  environment: Record<string, string | undefined>,
  runnables: readonly string[] = [GATEWAY, ...SERVICES.map(({ definition }) => definition.name)],
): PlatformConfig {
  const production = environment.NODE_ENV === "production";
  // Platform-wide refusals come from the raw values, so they are reported even when another
  // variable is malformed: one run lists everything to fix.
  const problems: string[] = [];
  if (production && /^(true|1|yes)$/i.test(environment.BLOSSOM_SEED ?? "")) {
    problems.push("BLOSSOM_SEED = true: demo data is never seeded in production");
  }
  if (production && environment.BLOSSOM_CRASH_POINTS) {
    problems.push("BLOSSOM_CRASH_POINTS is set: crash points are for tests and refused in production");
  }
  for (const { definition } of SERVICES) {
    for (const suffix of ["FAULT_LATENCY_MS", "FAULT_ERROR_RATE"]) {
      const name = `${env(definition.name)}_${suffix}`;
      if (production && Number(environment[name] ?? 0) !== 0)
        problems.push(`${name} is set: fault injection is for chaos tests and refused in production`);
    }
  }
  // A malformed <SERVICE>_URL would otherwise only fail when the discovery is built.
  for (const { definition } of SERVICES) {
    const name = `${env(definition.name)}_URL`;
    const value = environment[name];
    if (value === undefined || value === "") continue;
    try {
      parseServiceLocation(value);
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
    }
  }
  // The platform's variables, then every service's settings, all checked before anything starts:
  // one error lists every problem (a variable declared twice, REDIS_URL, is reported once).
  const invalid: string[] = [];
  const collect = <T>(resolve: () => T): T | undefined => {
    try {
      return resolve();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      invalid.push(...error.problems);
      return undefined;
    }
  };
  const platform = collect(() => loadConfig(PlatformSchema, environment));
  const settings = new Map<string, Settings<TProperties>>();
  for (const { definition } of SERVICES) {
    const resolved = collect(() => resolveSettings(definition.settings, environment));
    if (resolved) settings.set(definition.name, resolved);
  }
  if (!platform || invalid.length > 0) throw new ConfigError([...new Set([...invalid, ...problems])]);
  const config: PlatformConfig = { ...platform, settings };

  if (config.BLOSSOM_DISCOVERY === "nats" && !config.NATS_URL) {
    problems.push("BLOSSOM_DISCOVERY = nats: instances register in NATS, so NATS_URL must be set");
  }
  if (config.NODE_ENV === "production") {
    const selected = SERVICES.filter(({ definition }) => runnables.includes(definition.name));
    for (const { definition } of selected)
      problems.push(...(definition.checkProduction?.(settingsOf(config, definition)) ?? []));
    // Every service derives its service-token credential from the platform secret, so a process
    // running any service needs a real one; users' own check above covers it when users runs here.
    if (selected.length > 0 && !selected.some(({ definition }) => definition.name === "users"))
      problems.push(...serviceSecretProblems(serviceSecretValue(config)));
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return config;
}

/** A per-service variable, e.g. `serviceSetting(config, "orders", "DATABASE_URL")`. */
export function serviceSetting(config: PlatformConfig, service: string, suffix: "PORT"): number | undefined;
export function serviceSetting(
  config: PlatformConfig,
  service: string,
  suffix: "DATABASE_URL" | "URL" | "LOG_LEVEL",
): string | undefined;
export function serviceSetting(
  config: PlatformConfig,
  service: string,
  suffix: "PORT" | "DATABASE_URL" | "URL" | "LOG_LEVEL",
): string | number | undefined {
  const value = perServiceValue(config, `${env(service)}_${suffix}`);
  return typeof value === "string" || typeof value === "number" ? value : undefined;
}

/** The faults a service injects into its own answers (`<SERVICE>_FAULT_*`; zero = none). */
export function faultsOf(config: PlatformConfig, service: string): FaultInjection {
  const latencyMs = perServiceValue(config, `${env(service)}_FAULT_LATENCY_MS`);
  const errorRate = perServiceValue(config, `${env(service)}_FAULT_ERROR_RATE`);
  return {
    latencyMs: typeof latencyMs === "number" ? latencyMs : 0,
    errorRate: typeof errorRate === "number" ? errorRate : 0,
  };
}

/**
 * A variable of `perServiceProperties`: their names are made from the service names at run time,
 * so `PlatformConfig` cannot list them.
 */
function perServiceValue(config: PlatformConfig, name: string): unknown {
  return (config as Record<string, unknown>)[name];
}

/** A service's own settings, as `readConfig` resolved them, for its host (`ServiceContext.settings`). */
export function settingsOf(config: PlatformConfig, definition: AnyServiceDefinition): Settings<TProperties> {
  const settings = config.settings.get(definition.name);
  if (!settings) throw new Error(`${definition.name} is not a service of this platform`);
  return settings;
}

/**
 * The platform secret every service derives its service-token credential from. Declared with the
 * users service's settings (users checks the credentials, and refuses the development secret in
 * production), read here for the clients of every service the process runs.
 */
export function serviceSecretOf(config: PlatformConfig): string {
  const value = serviceSecretValue(config);
  if (typeof value !== "string" || value === "") throw new Error("BLOSSOM_SERVICE_SECRET is not set");
  return value;
}

function serviceSecretValue(config: PlatformConfig): unknown {
  return config.settings.get("users")?.BLOSSOM_SERVICE_SECRET;
}
