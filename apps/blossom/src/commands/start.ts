import { type EventBus, resolveBus } from "@blossom/bus";
import { type Runnable, ServiceHost, startAll, stopAll } from "@blossom/host";
import { armCrashPoints, exitOnSignals, LogRing, splitList } from "@blossom/runtime";
import { currentTracing } from "@blossom/telemetry";
import type { PlatformConfig } from "../config.js";
import { faultsOf, serviceSecretOf, serviceSetting, settingsOf } from "../config.js";
import { ClientPool, type InstanceRegistry, openInstanceRegistry, platformDiscovery } from "../discovery.js";
import { GatewayThread } from "../gateway-thread/gateway-thread.js";
import type { GatewayValues } from "../gateway-thread/messages.js";
import { loggerFactory, prettyLogs } from "../logging.js";
import { platformTokenVerifier } from "../platform-verifier.js";
import { formatReadyTable, type ReadyRow } from "../ready-table.js";
import { GATEWAY, GATEWAY_DEFAULT_PORT, SERVICES } from "../topology.js";
import { retryStartup } from "./retry-startup.js";

export interface RunningPlatform {
  urls: Map<string, string>;
  /** Where each runnable serves `GET /metrics`: a service on its own port, the gateway on its internal one. */
  metricsUrls: Map<string, string>;
  rows: ReadyRow[];
  /** The process's bus (tests publish through it what a faulty publisher would). */
  bus: EventBus;
  stop(): Promise<void>;
}

function portOf(config: PlatformConfig, name: string, defaultPort: number, only: boolean): number {
  const own = serviceSetting(config, name, "PORT");
  const shared = only || name === GATEWAY ? config.PORT : undefined;
  return own ?? shared ?? defaultPort;
}

/**
 * Starts the named services (all of them and the gateway by default) in this process. Each
 * service gets its own port, its own database (PostgreSQL when its URL is set, PGlite
 * otherwise) and the process's bus (JetStream when NATS_URL is set, in-process otherwise). With
 * services beside it, the gateway runs on a thread of its own (BLOSSOM_GATEWAY_THREAD).
 */
export async function startPlatform(config: PlatformConfig, names: string[]): Promise<RunningPlatform> {
  const logger = loggerFactory(config);
  const launcher = logger("blossom");
  const only = names.length === 1;
  const selected = SERVICES.filter(({ definition }) => names.includes(definition.name));
  const withGateway = names.includes(GATEWAY);
  if (selected.length > 0 && selected.length < SERVICES.length && !config.NATS_URL) {
    launcher.warn(
      "running some services without NATS_URL: their events stay in this process and never reach the others",
    );
  }

  // Discovery per upstream: `dns+http://…` URLs are resolved (Kubernetes services), other
  // configured URLs are static, else the default local ports, updated with real ports after listen.
  // With BLOSSOM_DISCOVERY=nats, a service without its own URL is found in the instance bucket,
  // where its replicas register themselves (`blossom cluster`).
  const natsUrl = config.NATS_URL;
  const registry: InstanceRegistry | undefined =
    config.BLOSSOM_DISCOVERY === "nats" && natsUrl
      ? await retryStartup(
          "NATS (instance registry)",
          () =>
            openInstanceRegistry({
              natsUrl,
              prefix: config.BLOSSOM_NATS_PREFIX,
              name: names.join("+"),
              onError: (error) => launcher.warn({ err: error }, "NATS instance registry"),
            }),
          launcher,
        )
      : undefined;
  const urls: Record<string, string> = {};
  for (const { definition, defaultPort } of SERVICES) {
    const configured = serviceSetting(config, definition.name, "URL");
    if (registry && configured === undefined) continue;
    urls[definition.name] =
      configured ?? `http://127.0.0.1:${portOf(config, definition.name, defaultPort, only) || defaultPort}`;
  }
  const discovery = platformDiscovery(urls, {
    dnsRefreshMs: config.BLOSSOM_DNS_REFRESH_MS,
    onDnsError: (service, error) =>
      launcher.warn({ err: error, service }, "DNS discovery failed; keeping the last instances"),
    ...(registry ? { registry: registry.discovery } : {}),
  });
  // The first resolution, so that no early call finds "no instances" (never rejects).
  await discovery.ready();
  const clients = new ClientPool(discovery, { serviceSecret: serviceSecretOf(config) });
  const bus = await retryStartup(
    "NATS",
    () =>
      resolveBus({
        ...(config.NATS_URL ? { natsUrl: config.NATS_URL } : {}),
        prefix: config.BLOSSOM_NATS_PREFIX,
        name: names.join("+"),
        logger: launcher,
        ackWaitMs: config.BLOSSOM_NATS_ACK_WAIT_MS,
      }),
    launcher,
  );
  armCrashPoints(splitList(config.BLOSSOM_CRASH_POINTS));
  const seed = config.BLOSSOM_SEED ?? config.NODE_ENV !== "production";
  // Every service verifies bearer tokens itself against the users service's published keys.
  const verifier = platformTokenVerifier(clients);
  // Each runnable's recent log lines, bounded (about 2 MiB each when full, 4.6 MiB at most), for the
  // operations console (`GET /api/ops/logs`).
  const rings = new Map<string, LogRing>();
  const ringOf = (name: string) => {
    let ring = rings.get(name);
    if (!ring) {
      ring = new LogRing();
      rings.set(name, ring);
    }
    return ring;
  };
  // Spawned before the services: the thread loads its modules while this one starts them. Not
  // with NATS discovery (the gateway then finds the services there, not on this process's ports).
  const gatewayThread =
    withGateway && selected.length > 0 && !registry && config.BLOSSOM_GATEWAY_THREAD === "worker"
      ? new GatewayThread(
          {
            name: GATEWAY,
            gateway: gatewayValues(config, only),
            prettyLogs: prettyLogs(config),
            logLevel: serviceSetting(config, GATEWAY, "LOG_LEVEL") ?? config.LOG_LEVEL,
            serviceSecret: serviceSecretOf(config),
            dnsRefreshMs: config.BLOSSOM_DNS_REFRESH_MS,
            upstreams: urls,
            environment: config.NODE_ENV,
          },
          currentTracing(),
          launcher,
        )
      : undefined;
  const hosts: ServiceHost[] = [];
  const others: Runnable[] = [];
  try {
    hosts.push(
      ...(await Promise.all(
        selected.map(({ definition, defaultPort }) =>
          ServiceHost.create(definition, {
            bus,
            clients,
            logger: logger(definition.name, ringOf(definition.name)),
            logs: ringOf(definition.name),
            databaseUrl:
              serviceSetting(config, definition.name, "DATABASE_URL") ??
              (only ? config.DATABASE_URL : undefined),
            dataDir: config.BLOSSOM_DATA_DIR,
            host: config.HOST,
            port: portOf(config, definition.name, defaultPort, only),
            bodyLimit: config.BODY_LIMIT_BYTES,
            seed,
            settings: settingsOf(config, definition),
            verifier,
            faults: faultsOf(config, definition.name),

            environment: config.NODE_ENV,

            drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
          }),
        ),
      )),
    );
    if (withGateway && !gatewayThread) {
      // Loaded only here: with the gateway on its own thread, this thread never runs it.
      const { createGateway } = await import("@blossom/gateway");
      others.push(
        await createGateway({
          ...gatewayValues(config, only),
          logger: logger(GATEWAY, ringOf(GATEWAY)),
          logs: ringOf(GATEWAY),
          clients,
          verifier,
          // Started by the bootstrap (or a test) before this module was loaded; unset = off.
          traces: currentTracing()?.spanStore,
        }),
      );
    }
    const listening = await startAll(hosts, others);
    // Services started here on port 0 are only known now: point discovery at them.
    for (const host of hosts) {
      if (!registry && !serviceSetting(config, host.name, "URL"))
        discovery.set(host.name, [listening.get(host.name) ?? ""]);
    }
    const metricsUrls = new Map(listening);
    if (gatewayThread) {
      // Where this process's services listen now (those with a configured URL keep it, as here).
      const own: Record<string, string> = {};
      for (const host of hosts) {
        const url = listening.get(host.name);
        if (url && !serviceSetting(config, host.name, "URL")) own[host.name] = url;
      }
      const gateway = await gatewayThread.start(own);
      listening.set(GATEWAY, gateway.url);
      metricsUrls.set(GATEWAY, gateway.metricsUrl ?? gateway.url);
    }
    // Listening, so callable: announce every runnable (the gateway too, for supervisors).
    if (registry) for (const [name, url] of listening) await registry.register(name, url);
    const rows: ReadyRow[] = [
      ...(gatewayThread
        ? [{ service: GATEWAY, url: listening.get(GATEWAY) ?? "", database: "-", bus: "-" }]
        : []),
      ...others.map((runnable) => ({
        service: runnable.name,
        url: listening.get(runnable.name) ?? "",
        database: "-",
        bus: "-",
      })),
      ...hosts.map((host) => ({
        service: host.name,
        url: listening.get(host.name) ?? "",
        database: `${host.store.kind} ${host.store.location}`,
        bus: bus.kind === "nats" ? `nats ${config.NATS_URL}` : "memory",
      })),
    ];
    for (const runnable of others) {
      if (runnable.metricsUrl) metricsUrls.set(runnable.name, runnable.metricsUrl);
    }
    return {
      urls: listening,
      metricsUrls,
      rows,
      bus,
      async stop() {
        // First out of the instance lists, so that callers stop choosing this process while it drains.
        await registry?.registrar.deregister();
        // The gateway first, as stopAll does: it drains its in-flight requests while the services still answer.
        await gatewayThread
          ?.stop()
          .catch((error: unknown) =>
            launcher.warn({ err: error }, "the gateway's thread did not stop cleanly"),
          );
        await stopAll(hosts, others, bus, launcher);
        await clients.close();
        // The last spans (the shutdown's own events among them) go out before the process ends.
        await currentTracing()
          ?.flush()
          .catch((error: unknown) => launcher.warn({ err: error }, "could not export the last spans"));
        discovery.close();
        await registry?.close();
      },
    };
  } catch (error) {
    await gatewayThread?.terminate();
    await Promise.allSettled(hosts.map((host) => host.close()));
    await bus.close().catch(() => {});
    await clients.close();
    discovery.close();
    await registry?.close().catch(() => {});
    throw error;
  }
}

/** The gateway's settings that are plain values, from the configuration. */
function gatewayValues(config: PlatformConfig, only: boolean): GatewayValues {
  return {
    host: config.HOST,
    port: portOf(config, GATEWAY, GATEWAY_DEFAULT_PORT, only),
    bodyLimit: config.BODY_LIMIT_BYTES,
    drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
    corsOrigins: splitList(config.GATEWAY_CORS_ORIGINS),
    rateLimit: {
      perMinute: config.GATEWAY_RATE_LIMIT_PER_MINUTE,
      loginPerMinute: config.GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE,
      ...(config.REDIS_URL ? { redisUrl: config.REDIS_URL } : {}),
    },
    maxInFlightPerService: config.GATEWAY_MAX_IN_FLIGHT_PER_SERVICE,
    overloadConcurrency: config.GATEWAY_OVERLOAD_CONCURRENCY,
    metricsPort: config.GATEWAY_METRICS_PORT,
    trustedProxies: splitList(config.GATEWAY_TRUSTED_PROXIES),
  };
}

/** `blossom start [service…]`: starts, prints the ready table, stops gracefully on SIGTERM/SIGINT. */
export async function startCommand(config: PlatformConfig, names: string[]): Promise<void> {
  const started = performance.now();
  const platform = await startPlatform(config, names);
  process.stdout.write(formatReadyTable(platform.rows, (performance.now() - started) / 1000));
  const gatewayMetrics = platform.metricsUrls.get(GATEWAY);
  if (gatewayMetrics && gatewayMetrics !== platform.urls.get(GATEWAY))
    process.stdout.write(`  gateway metrics (internal listener): ${gatewayMetrics}/metrics\n`);
  const launcher = loggerFactory(config)("blossom");
  exitOnSignals(() => platform.stop(), launcher, config.SHUTDOWN_TIMEOUT_MS);
}
