import { rm } from "node:fs/promises";
import type { TokenVerifier } from "@blossom/auth";
import type { EventContract, EventEnvelope, MemoryBus } from "@blossom/bus";
import type { ServiceClients, ServiceDefinition, ServiceHost } from "@blossom/host";
import type { Static, TObject, TProperties } from "@sinclair/typebox";
import type { TestDatabase, TestStoreFactory } from "./databases.js";
import { callHttp, type HttpAnswer, type HttpRequest } from "./http.js";
import { type TestSigningKey, testSigningKey } from "./signing.js";
import { makeTempDir } from "./temp-dirs.js";

/** How `startServiceForTest` runs the service; every option defaults to a service alone in a test. */
export interface ServiceTestOptions {
  /** Raw setting values (as environment variables would give them), resolved against the definition's schema. */
  settings?: Record<string, unknown>;
  /**
   * Where the database lives. A PostgreSQL factory: a new database of its own on that server,
   * dropped at close. Unset or PGlite: an embedded cluster in a temporary directory of its own.
   */
  store?: TestStoreFactory;
  /**
   * Hosts of the service sharing the database, the bus and its consumer name (default 1). On
   * PGlite always one: an embedded cluster belongs to one host.
   */
  replicas?: number;
  /** The other services it calls (default: none; asking for one throws). */
  clients?: ServiceClients;
  /** Verifies bearer tokens (default: the verifier of the kit's signing key, `key`). */
  verifier?: TokenVerifier;
  /** The lowest level logged into `logLines` (default "silent"). */
  logLevel?: "silent" | "fatal" | "error" | "warn" | "info" | "debug" | "trace";
  /** Event types recorded in `published` (default: every type the service publishes). */
  observe?: readonly string[];
  /** Default "test". */
  environment?: string;
  /** Seed development data (default false). */
  seed?: boolean;
  relayPollIntervalMs?: number;
  /** The data directory a previous start kept (`close({ keepData: true })`): a restart on its data. */
  dataDir?: string;
}

/** One log line, parsed. */
export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/**
 * A service running as the launcher runs it (ServiceHost: migrations, routes, consumers, outbox
 * relay, listening on 127.0.0.1), on its own in-memory bus, with what a test drives it with.
 */
export interface ServiceUnderTest<DB, S extends TProperties> {
  /** The first (usually only) host. */
  readonly host: ServiceHost<DB, S>;
  readonly hosts: readonly ServiceHost<DB, S>[];
  readonly bus: MemoryBus;
  /** The first host's base URL. */
  readonly url: string;
  /** Its PGlite data directory (unused on PostgreSQL). */
  readonly dataDir: string;
  /** The key its default verifier trusts. */
  readonly key: TestSigningKey;
  /** Every event of the observed types the service published, in arrival order. */
  readonly published: EventEnvelope[];
  /** Every line it logged at `logLevel` or above, raw JSON as written. */
  readonly logLines: string[];
  /** The same lines, parsed. */
  logs(): LogLine[];
  /** A user's access token signed by `key` (valid 10 minutes). */
  token(userId: string, role?: "customer" | "admin"): Promise<string>;
  /** Another service's token for internal calls, signed by `key`. */
  serviceToken(service: string): Promise<string>;
  /** A real HTTP request to the first host. */
  call<T = unknown>(method: string, path: string, request?: HttpRequest): Promise<HttpAnswer<T>>;
  /**
   * Publishes an event as its producer (the type's first segment) would; resolves once every
   * consumer handled (or dead-lettered) it.
   */
  publish<T extends TObject>(
    contract: EventContract<T>,
    subject: string,
    data: Static<T>,
    id?: string,
  ): Promise<EventEnvelope<Static<T>>>;
  /** Sends what the outboxes hold, so that `published` is complete. */
  settle(): Promise<void>;
  /**
   * Stops as the launcher does (stop accepting, flush the outbox, close) and closes the bus, then
   * drops a PostgreSQL database and removes the data directory unless `keepData` (a later
   * `startServiceForTest` with this `dataDir` restarts on that data). Idempotent.
   */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * Starts `definition` for a test: the service on a test database and a MemoryBus, tokens from a
 * fresh signing key, its log lines and published events recorded. What it started is closed
 * again when starting fails. The host, bus and runtime modules load on the first call, so that
 * importing the kit loads nothing a test has to start first (OpenTelemetry).
 */
export async function startServiceForTest<DB, S extends TProperties>(
  definition: ServiceDefinition<DB, S>,
  options: ServiceTestOptions = {},
): Promise<ServiceUnderTest<DB, S>> {
  const [{ resolveSettings, ServiceHost }, { createEnvelope, eventDomain, MemoryBus }, { createLogger }] =
    await Promise.all([import("@blossom/host"), import("@blossom/bus"), import("@blossom/runtime")]);
  const key = await testSigningKey(`${definition.name}-test-key`);
  const logLines: string[] = [];
  const logger = createLogger({
    service: definition.name,
    level: options.logLevel ?? "silent",
    destination: { write: (line: string) => void logLines.push(line) },
  });
  const settings = resolveSettings(definition.settings, options.settings ?? {});
  const bus = new MemoryBus();
  const published: EventEnvelope[] = [];
  const hosts: ServiceHost<DB, S>[] = [];
  const dataDir = options.dataDir ?? (await makeTempDir(definition.name));
  let database: TestDatabase | undefined;
  let stopped: Promise<void> | undefined;

  const close = async ({ keepData = false }: { keepData?: boolean } = {}) => {
    stopped ??= (async () => {
      for (const host of hosts) await host.stopAccepting();
      for (const host of hosts) await host.flushOutbox();
      for (const host of hosts) await host.close();
      await bus.close();
    })();
    await stopped;
    if (keepData) return;
    await database?.destroy();
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    if (options.store?.adapter === "postgres") database = await options.store.createDatabase();
    const observed = options.observe ?? definition.publishes.map((contract) => contract.type);
    if (observed.length > 0) {
      await bus.subscribe(
        "testkit-observer",
        [...observed],
        async (event) => {
          published.push(event);
        },
        { concurrency: 64 },
      );
    }
    const replicas = database ? (options.replicas ?? 1) : 1;
    for (let replica = 0; replica < replicas; replica++) {
      hosts.push(
        await ServiceHost.create(definition, {
          bus,
          logger,
          clients: options.clients ?? {
            get(service) {
              throw new Error(`${definition.name} has no client to ${service} in this test`);
            },
          },
          verifier: options.verifier ?? key.verifier,
          settings,
          environment: options.environment ?? "test",
          databaseUrl: database?.location,
          dataDir,
          host: "127.0.0.1",
          port: 0,
          seed: options.seed ?? false,
          ...(options.relayPollIntervalMs ? { relayPollIntervalMs: options.relayPollIntervalMs } : {}),
        }),
      );
    }
    for (const host of hosts) await host.subscribe();
    for (const host of hosts) await host.listen();
  } catch (error) {
    for (const host of hosts) await host.close().catch(() => {});
    await bus.close().catch(() => {});
    await database?.destroy().catch(() => {});
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  const [host] = hosts as [ServiceHost<DB, S>];
  const url = host.url;
  return {
    host,
    hosts,
    bus,
    url,
    dataDir,
    key,
    published,
    logLines,
    logs: () =>
      logLines
        .flatMap((chunk) => chunk.split("\n").filter(Boolean))
        .map((line) => JSON.parse(line) as LogLine),
    token: (userId, role = "customer") => key.token({ userId, role }, "10m"),
    serviceToken: (service) => key.serviceToken(service),
    call: (method, path, request) => callHttp(url, method, path, request),
    async publish(contract, subject, data, id) {
      const envelope = createEnvelope(eventDomain(contract.type), {
        type: contract.type,
        subject,
        data,
        ...(id ? { id } : {}),
      });
      await bus.publish([envelope]);
      return envelope;
    },
    async settle() {
      for (const running of hosts) await running.flushOutbox();
    },
    close,
  };
}
