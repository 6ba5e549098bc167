import type { EventContract, EventEnvelope, MessagingTables, Outbox, SubscribeOptions } from "@blossom/bus";
import type { ServiceClient } from "@blossom/client";
import type { App, Logger } from "@blossom/runtime";
import type { Migrations, Store } from "@blossom/store";
import type { ServiceMetrics } from "@blossom/telemetry";
import type { Static, TObject, TProperties } from "@sinclair/typebox";
import type { Kysely, Transaction } from "kysely";
import type { CallerClients } from "./caller-clients.js";
import type { NoSettings, Settings } from "./settings.js";

/**
 * What a service's routes and handlers get from the host: its own database, outbox and logger,
 * and its settings, typed by the schema `S` its definition declares (code that reads none may
 * leave `S` out).
 */
export interface ServiceContext<DB, S extends TProperties = NoSettings> {
  readonly name: string;
  readonly logger: Logger;
  readonly store: Store<DB & MessagingTables>;
  readonly db: Kysely<DB & MessagingTables>;
  readonly outbox: Outbox;
  /**
   * Resilient HTTP clients to other services, found through discovery; each call carries this
   * service's own service token when the process's clients offer one (`ServiceClients.forCaller`).
   */
  readonly clients: CallerClients;
  /**
   * This service's settings (see `ServiceDefinition.settings`): typed, converted, defaulted and
   * validated once, before the service starts. Read them as they are; derive what needs parsing
   * once, where the service is created.
   */
  readonly settings: Readonly<Settings<S>>;
  /** "development", "test" or "production". */
  readonly environment: string;
  /**
   * This service's Prometheus metrics (served at `GET /metrics`): the host records HTTP, events,
   * outbox and consumer figures; a service adds its domain ones (e.g. `sagaMetrics(metrics)`).
   */
  readonly metrics: ServiceMetrics;

  /**
   * Runs `work` in one database transaction and, after it commits, wakes the outbox relay so
   * events written with `outbox.add(trx, …)` leave at once instead of at the next poll.
   */
  transaction<R>(work: (trx: Transaction<DB & MessagingTables>) => Promise<R>): Promise<R>;
}

/** A running background loop of a service. */
export interface BackgroundTask {
  /** Stops the loop and waits for the iteration in flight. */
  stop(): Promise<void>;
}

/** Hands out one shared client per upstream service. */
export interface ServiceClients {
  get(service: string): ServiceClient;
  /**
   * The clients one service calls the others with, carrying its own service token. Without
   * it, the host hands the service these shared clients as they are (tests).
   */
  forCaller?(caller: string): CallerClients;
}

/** One consumed event type and what the service does with it, inside the inbox transaction. */
export interface EventBinding<DB, S extends TProperties = NoSettings> {
  readonly contract: EventContract;
  handle(event: {
    data: unknown;
    envelope: EventEnvelope;
    trx: Transaction<DB & MessagingTables>;
    context: ServiceContext<DB, S>;
    /** 1 on the first delivery, 2 on the first redelivery, … (a handler may give up on the last). */
    attempt: number;
    /** The consumer's `maxDeliver`: the attempt after which the event is dead-lettered. */
    maxAttempts: number;
    /**
     * Runs `effect` once the inbox transaction has committed (never if it rolls back): for what
     * must count a change only once it is durable, such as metrics.
     */
    afterCommit(effect: () => void): void;
  }): Promise<void>;
}

/**
 * Binds a handler to a consumed contract; the data it receives is validated and typed. `S`, the
 * service's settings schema, is needed only by a handler that reads `context.settings`.
 */
export function on<DB, C extends TObject, S extends TProperties = NoSettings>(
  contract: EventContract<C>,
  handle: (event: {
    data: Static<C>;
    envelope: EventEnvelope<Static<C>>;
    trx: Transaction<DB & MessagingTables>;
    context: ServiceContext<DB, S>;
    attempt: number;
    maxAttempts: number;
    afterCommit(effect: () => void): void;
  }) => Promise<void>,
): EventBinding<DB, S> {
  return { contract, handle: handle as EventBinding<DB, S>["handle"] };
}

/**
 * Everything that makes a service, declared once. The host turns it into a running service on
 * either topology: it opens the database, applies `migrations`, registers `routes`, subscribes
 * `consumes`, and relays the outbox of the contracts in `publishes`.
 */
export interface ServiceDefinition<DB, S extends TProperties = NoSettings> {
  /** Lower-case name: the route prefix `/api/<name>`, the database, the consumer name. */
  readonly name: string;
  readonly description: string;
  /** Must include `messagingMigrations` (outbox and inbox tables). */
  readonly migrations: Migrations;
  readonly publishes: EventContract[];
  readonly consumes?: EventBinding<DB, S>[];
  readonly consumerOptions?: SubscribeOptions;
  /**
   * Whether the service keeps an audit log (its migrations include `auditLogMigration`): the
   * host then serves it to admins at `GET /api/<name>/audit`.
   */
  readonly audited?: boolean;

  /**
   * The environment variables this service reads (names prefixed with the service, e.g.
   * `USERS_ACCESS_TOKEN_TTL_SECONDS`), as TypeBox properties with defaults (`{}`: none). They are
   * resolved once (`resolveSettings`: converted, defaulted, validated; the launcher does it for
   * every service before anything starts) and handed to the service as `context.settings`,
   * typed `Settings<S>`.
   */
  readonly settings: S;
  /**
   * Refuses settings that are unsafe in production (development keys or passwords); returns one
   * message per problem. Called by the launcher, with the resolved settings, before anything starts.
   */
  checkProduction?(settings: Settings<S>): string[];
  routes(app: App, context: ServiceContext<DB, S>): void | Promise<void>;
  /**
   * Background work the service runs while it is up (a saga deadline sweep, a delivery loop):
   * started after the service listens, stopped when it stops accepting requests — before the
   * final outbox flush, so events the work wrote still leave.
   */
  start?(context: ServiceContext<DB, S>): BackgroundTask | Promise<BackgroundTask>;
  /** Development data written once at start (idempotently), e.g. a demo catalog. */

  seed?(context: ServiceContext<DB, S>): Promise<void>;
}

/**
 * A service definition whatever its tables and settings: how the launcher holds all five in one
 * list. `ServiceDefinition<DB, S>` is invariant in `DB` (routes receive and return it), and each
 * service's settings are its own, so no one concrete type covers them all.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; each definition is typed where it is written.
export type AnyServiceDefinition = ServiceDefinition<any, any>;
