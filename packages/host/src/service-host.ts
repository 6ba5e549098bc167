import { registerAuthentication, type TokenVerifier } from "@blossom/auth";
import { type EventBus, type MessagingTables, Outbox, OutboxRelay, type Subscription } from "@blossom/bus";
import {
  type App,
  crashPoint,
  createServer,
  currentContext,
  type FaultInjection,
  type Logger,
  type LogRing,
} from "@blossom/runtime";
import { migrateToLatest, openStore, type Store } from "@blossom/store";
import { MetricsHistory, messagingSystemOf, ServiceMetrics } from "@blossom/telemetry";
import type { TProperties } from "@sinclair/typebox";
import type { Kysely } from "kysely";
import { registerAuditRoute } from "./audit/audit-log.js";
import { CallerClients } from "./caller-clients.js";
import { registerDeadLetterRoutes } from "./dead-letters/dead-letter-routes.js";
import { createEventDispatcher } from "./event-dispatcher.js";
import { registerInstanceOpsRoutes } from "./ops/instance-ops.js";
import type {
  BackgroundTask,
  ServiceClients,
  ServiceContext,
  ServiceDefinition,
} from "./service-definition.js";
import { type NoSettings, resolveSettings, type Settings } from "./settings.js";

export interface ServiceHostOptions<S extends TProperties = NoSettings> {
  /** The bus, shared by all services of the process. The host never closes it. */
  bus: EventBus;
  logger: Logger;
  /** Clients to the other services (shared by the services of one process). */
  clients: ServiceClients;
  /** Verifies bearer tokens on every request (the users service's keys); routes then call requireUser/requireAdmin. */
  verifier?: TokenVerifier;
  /**
   * The service's settings, already resolved (`resolveSettings(definition.settings, raw)`: the
   * launcher resolves every service's before anything starts; a test resolves the values it sets).
   * Unset: the declared defaults.
   */
  settings?: Settings<S>;
  /** "development", "test" or "production". */
  environment?: string;
  /** Set: PostgreSQL. Unset: PGlite under `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  bodyLimit?: number;
  /** Seed development data (never in production). */
  seed?: boolean;
  /** Delay between failing readiness and closing the listener, so load balancers notice. */
  drainDelayMs?: number;
  relayPollIntervalMs?: number;
  /** Latency and 503s added to the service's HTTP answers (chaos tests; refused in production). */
  faults?: FaultInjection;
  /**
   * The ring `logger` also writes to (`createLogger({ ring })`), served to admins for the
   * operations console at `GET /internal/ops/logs`; unset = no log lines kept.
   */
  logs?: LogRing;
  /** Milliseconds between two samples of the metrics history (`GET /internal/ops/metrics`). Default 5,000. */
  metricsSampleIntervalMs?: number;
}

/**
 * One running service: its database (migrated on start), its HTTP server, its consumers and its
 * outbox relay. Start-up and shutdown come in phases so that a process hosting several services
 * on the in-memory bus can order them: every consumer subscribes before any relay publishes,
 * and every outbox is flushed before any consumer stops.
 */
export class ServiceHost<DB = unknown, S extends TProperties = NoSettings> {
  readonly name: string;
  readonly app: App;
  readonly context: ServiceContext<DB, S>;
  readonly relay: OutboxRelay;
  /** The last 15 minutes of this service's metrics, sampled while it listens. */
  readonly metricsHistory: MetricsHistory;
  #definition: ServiceDefinition<DB, S>;
  #options: ServiceHostOptions<S>;
  #subscription: Subscription | undefined;
  #background: BackgroundTask | undefined;
  #url: string | undefined;
  #health: ReturnType<typeof createServer>["health"];
  /**
   * After a transaction (a request's or an event's inbox) committed: its events leave now, by
   * the relay's fast path, not at the next poll.
   */
  readonly #publishCommitted: (trx: object) => void;

  private constructor(
    definition: ServiceDefinition<DB, S>,
    options: ServiceHostOptions<S>,
    store: Store<DB & MessagingTables>,
    settings: Settings<S>,
  ) {
    this.name = definition.name;
    this.#definition = definition;
    this.#options = options;
    const logger = options.logger;
    const metrics = new ServiceMetrics({ service: definition.name });
    metrics.expectEvents({
      published: definition.publishes.map((contract) => contract.type),
      consumed: (definition.consumes ?? []).map((binding) => binding.contract.type),
    });
    const { app, health } = createServer({
      service: definition.name,
      logger,
      metrics,
      ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
    });
    this.app = app;
    this.#health = health;
    this.metricsHistory = new MetricsHistory({
      registry: metrics.registry,
      ...(options.metricsSampleIntervalMs ? { intervalMs: options.metricsSampleIntervalMs } : {}),
    });
    const outbox = new Outbox(
      definition.name,
      definition.publishes,
      () => {
        const context = currentContext();
        if (!context) return undefined;
        return {
          correlationId: context.correlationId,
          ...(context.traceparent ? { traceparent: context.traceparent } : {}),
          ...(context.tracestate ? { tracestate: context.tracestate } : {}),
        };
      },
      messagingSystemOf(options.bus.kind),
    );
    this.relay = new OutboxRelay({
      db: store.db as unknown as Kysely<MessagingTables>,
      bus: options.bus,
      logger,
      shared: store.kind === "postgres",
      service: definition.name,
      onStage: (stage) => crashPoint(definition.name, `outbox.${stage}`),
      onPublished: (events) => {
        for (const event of events) metrics.eventPublished(event.type);
      },
      ...(options.relayPollIntervalMs ? { pollIntervalMs: options.relayPollIntervalMs } : {}),
    });
    const relay = this.relay;
    this.#publishCommitted = (trx) => relay.committed(outbox.takeWritten(trx));
    const publishCommitted = this.#publishCommitted;
    metrics.watchOutboxBacklog(() => relay.pending());
    metrics.watchConsumerLag(async () => (await this.#subscription?.lag()) ?? 0);
    // The upstreams this service has called so far, each reported by its breaker.
    const clients =
      options.clients.forCaller?.(definition.name) ??
      new CallerClients((service) => options.clients.get(service));
    metrics.watchUpstreams(() => clients.breakers());
    this.context = {
      name: definition.name,
      logger,
      store,
      db: store.db,
      outbox,
      clients,
      settings,
      environment: options.environment ?? "development",
      metrics,

      async transaction(work) {
        let trx: object | undefined;
        const result = await store.db.transaction().execute((opened) => {
          trx = opened;
          return work(opened);
        });
        if (trx) publishCommitted(trx);
        return result;
      },
    };
    health.add("database", () => store.ping());
    health.add("bus", () => options.bus.ping());
  }

  /** Phase 1: opens and migrates the database, seeds development data, registers routes. */
  static async create<DB, S extends TProperties>(
    definition: ServiceDefinition<DB, S>,
    options: ServiceHostOptions<S>,
  ): Promise<ServiceHost<DB, S>> {
    // Before the database opens: defaults that do not validate fail here, not half-way up.
    const settings = options.settings ?? resolveSettings(definition.settings, {});
    const store = await openStore<DB & MessagingTables>({
      service: definition.name,
      databaseUrl: options.databaseUrl,
      dataDir: options.dataDir,
      // A connection the server cut (restart, failover, terminated backend): a log line of the
      // service's own; the request or event that used it fails with 503 and is retried.
      onPoolError: (err) => options.logger.warn({ err }, "PostgreSQL connection lost"),
    });
    try {
      const applied = await migrateToLatest(store, definition.migrations);
      if (applied.length > 0) options.logger.info({ migrations: applied }, "migrations applied");
      const host = new ServiceHost(definition, options, store, settings);
      if (options.verifier) registerAuthentication(host.app as never, options.verifier);

      if (definition.audited) registerAuditRoute(host.app, definition.name, host.context.db);
      // The operations console's per-service API (dead letters) and per-instance data (logs, metrics).
      registerDeadLetterRoutes(host.app, {
        service: definition.name,
        bus: options.bus,
        db: host.context.db,
        audited: definition.audited === true,
      });
      registerInstanceOpsRoutes(host.app, {
        service: definition.name,
        logs: options.logs,
        metrics: host.metricsHistory,
      });
      await definition.routes(host.app, host.context);

      if (options.seed && definition.seed) await definition.seed(host.context);
      await host.app.ready();
      return host;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  get store(): Store<DB & MessagingTables> {
    return this.context.store;
  }

  /** The base URL once listening. */
  get url(): string {
    if (!this.#url) throw new Error(`${this.name} is not listening`);
    return this.#url;
  }

  /** Phase 2: subscribes the service's consumers (before any relay of the process publishes). */
  async subscribe(): Promise<void> {
    const bindings = this.#definition.consumes ?? [];
    if (bindings.length === 0) return;
    const dispatcher = createEventDispatcher(
      bindings,
      this.context,
      this.#publishCommitted,
      this.#definition.consumerOptions?.maxDeliver,
      messagingSystemOf(this.#options.bus.kind),
    );
    this.#subscription = await this.#options.bus.subscribe(
      this.name,
      bindings.map((binding) => binding.contract.type),
      dispatcher,
      {
        ...this.#definition.consumerOptions,
        onDeadLetter: (deadLetter) => this.context.metrics.eventDeadLettered(deadLetter.event.type),
        // Memory bus only: its dead letters are bounded, and an operator must learn that some went.
        onDeadLettersDropped: (dropped, bound) => {
          this.context.metrics.deadLettersDropped(this.name, dropped);
          this.context.logger.warn(
            { consumer: this.name, dropped, bound },
            `memory bus: oldest dead letters dropped (the ${bound} bound of a consumer's dead letters)`,
          );
        },
      },
    );
    // Its series starts at zero where drops can happen, so that `increase()` sees the first one.
    if (this.#options.bus.kind === "memory") this.context.metrics.deadLettersDropped(this.name, 0);
  }

  /** Phase 3: listens for HTTP and starts relaying the outbox. */
  async listen(): Promise<string> {
    this.#url = await this.app.listen({ host: this.#options.host, port: this.#options.port });
    this.relay.start();
    this.metricsHistory.start();
    if (this.#definition.start) this.#background = await this.#definition.start(this.context);
    return this.#url;
  }

  /** Stop phase 1: fails readiness, waits for load balancers, then drains in-flight requests. */
  async stopAccepting(): Promise<void> {
    this.#health.startDraining();
    const delay = this.#options.drainDelayMs ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    await this.app.close();
    await this.#background?.stop();
    this.#background = undefined;
  }

  /** Stop phase 2: publishes what is left in the outbox; returns how many it sent. */
  async flushOutbox(): Promise<number> {
    const before = this.relay.stats.published;
    await this.relay.flush();
    return this.relay.stats.published - before;
  }

  /** Stop phase 3: stops the relay and the consumers (handlers in flight finish), closes the database. */
  async close(): Promise<void> {
    await this.#background?.stop();
    // Its reads touch the database and the bus: stopped before they close.
    await this.metricsHistory.stop();

    await this.relay.stop();
    await this.#subscription?.stop();
    await this.context.store.close();
  }
}
