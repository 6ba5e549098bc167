import { randomUUID } from "node:crypto";
import {
  currentTracing,
  endServerSpan,
  recordServerError,
  runInServerSpan,
  type ServerSpan,
  type ServiceMetrics,
} from "@blossom/telemetry";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import {
  answerFrameworkError,
  installErrorHandling,
  MAX_PATH_PARAM_LENGTH,
  toProblem,
} from "./error-handler.js";
import { type FaultInjection, injectsFaults, installFaultInjection } from "./fault-injection.js";
import { HealthRegistry } from "./health.js";
import { logSafeUrl } from "./log-safe-url.js";
import type { Logger } from "./logger.js";
import { installStrictNumbers } from "./numeric-query.js";
import { installOpenApi, registerOpenApiRoute } from "./openapi.js";
import {
  correlationIdOf,
  currentContext,
  type RequestContext,
  runWithContext,
  safeIdHeader,
} from "./request-context.js";
import {
  deadlineExceeded,
  parseRequestTimeout,
  REQUEST_TIMEOUT_HEADER,
  remainingBudgetMs,
} from "./request-deadline.js";
import { installUnreadBodyDiscard, MAX_DISCARDED_BODY_BYTES } from "./unread-body.js";

/** A URL's path, without its query. */
function pathOf(url: string): string {
  const queryAt = url.indexOf("?");
  return queryAt === -1 ? url : url.slice(0, queryAt);
}

/** A Fastify instance typed by TypeBox schemas: route handlers get typed bodies, params and replies. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface ServerOptions {
  /** Names the service in logs and answers. */
  service: string;
  logger: Logger;
  /** Largest accepted request body in bytes; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * The most of a body the server reads and discards after answering before the body arrived
   * (a 413, a 401 from the headers), so the client gets that answer instead of a reset
   * connection; past it the connection is closed. Default 16 MiB.
   */
  maxDiscardedBodyBytes?: number;
  /** Readiness checks by dependency name (e.g. database, bus). */
  health?: HealthRegistry;
  /** Leave `/health/ready` to the caller (the gateway reports the whole platform). */
  skipReadiness?: boolean;
  /**
   * Serve `GET /openapi.json` (the document built from the routes' schemas). Default true; the
   * gateway serves the merged platform document there instead.
   */
  openApiRoute?: boolean;
  /**
   * Records every request in the RED histogram and serves `GET /metrics` (Prometheus text
   * format, no authentication: it carries no ids or personal data, only bounded labels).
   */
  metrics?: ServiceMetrics;
  /**
   * Serve `GET /metrics` on this server's port (default true). The gateway says false and serves
   * it on an internal listener of its own (`serveMetrics`): its port is the public one.
   */
  metricsRoute?: boolean;
  /** Latency and 503s added to every request but probes and scrapes (chaos tests; never production). */
  faults?: FaultInjection;
  /** Extra Fastify options (tests, the gateway). */
  fastify?: Partial<FastifyServerOptions>;
}

/**
 * The Fastify server every service and the gateway start from: TypeBox schemas (unknown body
 * fields are stripped, so no mass assignment), problem+json errors, request and correlation ids
 * taken from the caller or made here and echoed back, one access-log line per request, a body
 * size limit (whose 413, like any answer sent before the body arrived, reaches a client still
 * sending: see `installUnreadBodyDiscard`), and `GET /health/live` and `GET /health/ready`.
 */
export function createServer(options: ServerOptions): { app: App; health: HealthRegistry } {
  const health = options.health ?? new HealthRegistry();
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // One access line per request comes from our onResponse hook; Fastify's own two are off.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: "request_id" }),
    genReqId: (request) => safeIdHeader(request.headers["x-request-id"]) ?? randomUUID(),
    // The request's logger carries both ids from the start: one child logger per request, not
    // Fastify's and then another for the correlation id.
    childLoggerFactory: (logger, bindings, childOptions, raw) =>
      logger.child(
        {
          ...bindings,
          correlation_id:
            safeIdHeader(raw.headers["x-correlation-id"]) ?? (bindings as { request_id?: string }).request_id,
        },
        childOptions,
      ),
    // Let in-flight requests finish on close, but do not keep idle keep-alive sockets open.
    forceCloseConnections: "idle",
    // A request read while closing is still served (and told to close its connection): the
    // listener is already closed, so it was accepted before the stop and must not be dropped.
    return503OnClosing: false,
    // A too-long path parameter or an undecodable URL is a problem+json too (Fastify's router
    // answers those before the error handler).
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors: answerFrameworkError,
    ajv: {
      customOptions: {
        removeAdditional: "all",
        coerceTypes: "array",
        useDefaults: true,
        allErrors: true,
      },
    },
    ...options.fastify,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  // Before any route: the document is built from every route added from here on.
  installOpenApi(app as unknown as FastifyInstance, options.service);
  installStrictNumbers(app as unknown as FastifyInstance);

  // Each request's HTTP server span, ended when the answer is sent (or the client went away).
  const serverSpans = new WeakMap<object, ServerSpan>();
  app.addHook("onRequest", (request, reply, done) => {
    const correlationId = correlationIdOf(request);
    const traceparent = request.headers.traceparent;
    const tracestate = request.headers.tracestate;
    const authorization = request.headers.authorization;
    const budgetMs = parseRequestTimeout(request.headers[REQUEST_TIMEOUT_HEADER]);
    reply.header("x-request-id", request.id);
    reply.header("x-correlation-id", correlationId);
    // Built field by field: no temporary objects to spread per request.
    const context: RequestContext = { requestId: request.id, correlationId };
    if (typeof traceparent === "string") context.traceparent = traceparent;
    if (typeof tracestate === "string") context.tracestate = tracestate;
    if (authorization) context.authorization = authorization;
    if (budgetMs !== undefined) context.deadline = Date.now() + budgetMs;
    const handle = () => runWithContext(context, done);
    // Tracing off: no span, and none of the request's attributes computed for one.
    if (!currentTracing()?.enabled) {
      handle();
      return;
    }
    // With tracing on, the rest of the request runs in its HTTP server span.
    const span = runInServerSpan(
      {
        service: options.service,
        method: request.method,
        route: request.routeOptions.url,
        path: pathOf(request.url),
        headers: request.headers,
        scheme: request.protocol,
        serverAddress: request.hostname,
        serverPort: request.port ?? undefined,
        clientAddress: request.ip,
        httpVersion: request.raw.httpVersion,
      },
      handle,
    );
    if (span) serverSpans.set(request, span);
  });

  // After authentication (preValidation): the user is known, and the log lines that follow say so.
  app.addHook("preHandler", (request, _reply, done) => {
    const userId = (request as { principal?: { userId?: string } }).principal?.userId;
    const context = currentContext();
    if (userId && context) context.userId = userId;
    // The last moment before the handler acts: a request whose caller has already given up on
    // it (queued too long) is refused here, before anything is done (request-deadline.ts).
    if (remainingBudgetMs(context) === 0) {
      done(deadlineExceeded());
      return;
    }
    done();
  });

  // A failure of ours (5xx) is recorded on the request's span; a client's mistake (4xx) is not.
  app.addHook("onError", (request, _reply, error, done) => {
    if (toProblem(error).status >= 500) recordServerError(serverSpans.get(request), error);
    done();
  });

  app.addHook("onRequestAbort", (request, done) => {
    endServerSpan(serverSpans.get(request), 499, true);
    done();
  });

  app.addHook("onResponse", (request, reply, done) => {
    endServerSpan(serverSpans.get(request), reply.statusCode);
    const line = {
      method: request.method,
      // Never a query's values: they may carry a token (`?access_token=`) or personal data.
      url: logSafeUrl(request.url),
      route: request.routeOptions.url ?? "unmatched",
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    // Probes hit every few seconds: keep them out of the info stream.
    if (request.url.startsWith("/health/")) request.log.debug(line, "request");
    else request.log.info(line, "request");
    done();
  });

  const metrics = options.metrics;
  if (metrics) {
    // The route template, never the raw URL (ids would make the label unbounded); a request no
    // route matched is `unmatched`.
    app.addHook("onResponse", (request, reply, done) => {
      metrics.observeRequest(
        request.method,
        request.routeOptions.url,
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
      done();
    });
    // Scraped every few seconds: kept out of the info access log, like the liveness probe.
    if (options.metricsRoute !== false)
      app.get("/metrics", { logLevel: "warn", schema: { hide: true } }, async (_request, reply) => {
        reply.header("content-type", metrics.contentType);
        return metrics.exposition();
      });
  }

  // Node's server.close() only closes the keep-alive sockets idle at that moment: tell clients of
  // requests still in flight to close theirs, so a graceful stop does not wait for keepAliveTimeout.
  let closing = false;
  let inFlight = 0;
  // One listener for every request, not a closure each.
  const requestClosed = () => {
    inFlight -= 1;
  };
  app.addHook("onRequest", (_request, reply, done) => {
    inFlight += 1;
    // `close` rather than onResponse: a request whose client went away (a gateway cutting a held
    // `Prefer: wait`) never reaches onResponse, and counted forever it kept every idle
    // keep-alive connection, so the server, open until keepAliveTimeout (72 s).
    reply.raw.once("close", requestClosed);
    done();
  });
  app.addHook("preClose", (done) => {
    closing = true;
    // A socket that connected but never sent a request counts as active for Node, so close()
    // would wait for it until the shutdown deadline: once no request is in flight, close every
    // remaining connection (none of them carries work).
    const sweep = setInterval(() => {
      if (inFlight <= 0) app.server.closeAllConnections();
    }, 50);
    sweep.unref();
    app.server.once("close", () => clearInterval(sweep));
    done();
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });
  // An answer sent before the body has all arrived (413, 401…) must reach the client: the rest of
  // the body is read and discarded (bounded) rather than the connection reset under it.
  installUnreadBodyDiscard(app as unknown as FastifyInstance, {
    maxBytes: options.maxDiscardedBodyBytes ?? MAX_DISCARDED_BODY_BYTES,
    closing: () => closing,
  });
  // After the in-flight count: a delayed or failed request is still one the stop waits for.
  if (injectsFaults(options.faults)) installFaultInjection(app as unknown as FastifyInstance, options.faults);

  installErrorHandling(app);

  app.get("/health/live", { logLevel: "warn" }, async () => ({ status: "live", service: options.service }));
  if (!options.skipReadiness) {
    app.get("/health/ready", async (_request, reply) => {
      const report = await health.report();
      reply.code(report.status === "ready" ? 200 : 503);
      return { service: options.service, ...report };
    });
  }
  if (options.openApiRoute !== false) registerOpenApiRoute(app as unknown as FastifyInstance);

  return { app, health };
}
