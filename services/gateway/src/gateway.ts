import type { TokenVerifier } from "@blossom/auth";
import type { Runnable, ServiceClients } from "@blossom/host";
import { createServer, type Logger, type LogRing, type MetricsServer, serveMetrics } from "@blossom/runtime";
import { gatewayShedMetrics, MetricsHistory, ServiceMetrics, type TraceReader } from "@blossom/telemetry";
import { registerBodyLimitStage } from "./body-limit-stage.js";
import { Bulkhead } from "./bulkhead.js";
import { registerCanonicalPathStage, rewriteToCanonicalPath } from "./canonical-path-stage.js";
import { doorShedServer, shedSummary } from "./door-shed.js";
import { registerEdgeAuthentication } from "./edge-auth.js";
import { registerOpenApiDocs } from "./openapi.js";
import { registerOpsConsoleRoutes } from "./ops-console.js";
import { registerTraceRoutes } from "./ops-traces.js";
import { registerProxy } from "./proxy.js";
import { type RateLimitOptions, registerRateLimit } from "./rate-limit.js";
import { registerPlatformReadiness } from "./readiness.js";
import { UPSTREAM_SERVICES } from "./routing-table.js";
import { registerSecurityHeaders } from "./security-headers.js";
import { ShedEcho } from "./shed-echo.js";
import { registerStorefront } from "./storefront.js";

export interface GatewayOptions {
  logger: Logger;
  clients: ServiceClients;
  host: string;
  port: number;
  bodyLimit?: number;
  /** Wait between failing readiness and closing the listener, so load balancers stop sending. */
  drainDelayMs?: number;
  /** Verifies bearer tokens at the edge (the same verifier the services use). */
  verifier: TokenVerifier;
  /** Origins allowed cross-origin access (CORS); empty or unset = none. */
  corsOrigins?: readonly string[];
  /** Budgets per minute and the optional Redis that shares them between replicas. */
  rateLimit?: Omit<RateLimitOptions, "verifier">;
  /**
   * Addresses or CIDR ranges of the reverse proxies in front of the gateway (an ingress
   * controller, a cloud load balancer): only from them is `X-Forwarded-For` believed, so the
   * client IP (rate limits, logs) is the caller's, not the proxy's. Empty = trust nobody.
   */
  trustedProxies?: readonly string[];
  /**
   * Requests the gateway sends one upstream instance at once while the service's queue is
   * standing (overloaded; never more than its client's connections, which is the limit at other
   * times); past them, requests wait in the gateway's queue for the service. Default 16.
   */
  overloadConcurrency?: number;
  /** Requests in flight per upstream before the gateway answers 503. Default 256. */

  maxInFlightPerService?: number;
  /**
   * The process's recent spans, served at `GET /api/ops/traces` (admins): its `SpanStore`, or a
   * reader of the one the services' thread keeps; unset = tracing is off.
   */
  traces?: TraceReader | undefined;
  /**
   * The ring the gateway's `logger` also writes to: its lines in `GET /api/ops/logs` (admins),
   * beside every service instance's; unset = the gateway's own lines are not kept.
   */
  logs?: LogRing | undefined;
  /**
   * Port of the internal listener that serves `GET /metrics` (on `host`); 0 = any free port;
   * unset = the gateway's metrics are not served. Never the public port: it answers 404 there.
   */
  metricsPort?: number;
  /** The built storefront served at `/` (storefront.ts); unset = apps/web/dist; `false` = none. */
  webRoot?: string | false;
}

/**
 * The front door: one port for every public route. Stages, in order: request id and
 * correlation id (server factory) → security headers and CORS → canonical path (refuses an
 * ambiguous one; every later stage and the service see the same path) → rate limit → body limit
 * (a declared length over it is 413, token or not) → authentication → proxy with
 * timeout/retry/breaker and a bulkhead per service → access log (server factory).
 */
/** See GatewayOptions.overloadConcurrency. */
export const DEFAULT_OVERLOAD_CONCURRENCY = 16;

export async function createGateway(
  options: GatewayOptions,
): Promise<Runnable & { readonly url: string; readonly metricsUrl: string | undefined }> {
  // Served on an internal listener of its own (metricsPort), never on the public port.
  const metrics = new ServiceMetrics({ service: "gateway" });
  metrics.watchUpstreams(() =>
    UPSTREAM_SERVICES.map((upstream) => ({ upstream, state: options.clients.get(upstream).stats().state })),
  );
  const shedCounts = gatewayShedMetrics(metrics);
  shedCounts.expect(UPSTREAM_SERVICES);
  // Past what its instances are sent at once, a request waits in the gateway's queue, where its
  // wait is seen and bounded (upstream-queue.ts), not in the connection pool's. That is their
  // connections (32) for a burst, and 16 while the queue stands: under overload more in flight
  // only lengthens each one's turn on the upstream's event loop (measured on npm start at 2x the
  // catalog's saturation rate, p99 of the reads served against saturation's: 16, 1.2x and 1.7x;
  // 32, 2.3x and 3.6x). Not 16 always: 20 concurrent reads on a cold platform then waited past
  // the queue's 100 ms burst budget and were refused, where with 32 every one was served.
  const overloadConcurrency = options.overloadConcurrency ?? DEFAULT_OVERLOAD_CONCURRENCY;
  const bulkhead = new Bulkhead(options.maxInFlightPerService ?? 256, undefined, {
    capacityOf: (service, standing) =>
      options.clients.get(service).capacity(standing ? overloadConcurrency : undefined),
    onShed: (service, stage) => shedCounts.shed(service, stage),
  });
  const logDoorShed = shedSummary(options.logger);
  // An operation a service just shed is refused at the door for a moment (shed-echo.ts).
  const shedEcho = new ShedEcho();
  // The gateway's own readiness is replaced by the platform's: registered before the factory's.
  const { app, health } = createServer({
    service: "gateway",
    logger: options.logger,
    metrics,
    metricsRoute: false,
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    skipReadiness: true,
    openApiRoute: false,
    fastify: {
      // Every stage below, and the service behind, sees one canonical path (canonical-path.ts).
      rewriteUrl: rewriteToCanonicalPath,
      // Refuses requests for an overloaded service before any stage spends work on them.
      serverFactory: doorShedServer({
        overloaded: (service) => bulkhead.overloaded(service),
        echoed: (method, url) => shedEcho.refusing(method, url),
        corsOrigins: options.corsOrigins ?? [],
        onShed: (service) => {
          shedCounts.shed(service, "door");
          logDoorShed(service);
        },
      }),
      ...(options.trustedProxies?.length ? { trustProxy: [...options.trustedProxies] } : {}),
    },
  });

  // Hook order is stage order: each registers its onRequest hook after the previous one's.
  await registerSecurityHeaders(app, { corsOrigins: options.corsOrigins ?? [] });
  registerCanonicalPathStage(app);
  await registerRateLimit(app, { ...options.rateLimit, verifier: options.verifier, metrics });
  registerBodyLimitStage(app);
  registerEdgeAuthentication(app, options.verifier);
  registerPlatformReadiness(app, options.clients, health);
  // Before the proxy's catch-all, and before the docs are first built: part of the merged document.
  registerTraceRoutes(app, options.traces);
  const history = new MetricsHistory({ registry: metrics.registry });
  registerOpsConsoleRoutes(app, { clients: options.clients, logs: options.logs, metrics: history });
  await registerOpenApiDocs(app, options.clients);
  await registerStorefront(app, options.webRoot);
  registerProxy(app, options.clients, bulkhead, shedEcho);
  await app.ready();
  let url: string | undefined;
  let metricsServer: MetricsServer | undefined;
  return {
    name: "gateway",
    get url() {
      if (!url) throw new Error("gateway is not listening");
      return url;
    },
    get metricsUrl() {
      return metricsServer?.url;
    },
    async listen() {
      if (options.metricsPort !== undefined)
        metricsServer = await serveMetrics({ metrics, host: options.host, port: options.metricsPort });
      try {
        url = await app.listen({ host: options.host, port: options.port });
      } catch (error) {
        await metricsServer?.close();
        throw error;
      }
      history.start();
      return url;
    },
    async stopAccepting() {
      health.startDraining();
      const delay = options.drainDelayMs ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      await app.close();
      await history.stop();
      // Scraped to the end: the last figures of a draining gateway are worth having.
      await metricsServer?.close();
    },

    async close() {},
  };
}
