import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type Logger, PROBLEM_CONTENT_TYPE, problemType, safeIdHeader } from "@blossom/runtime";
import { routeFor } from "./routing-table.js";
import { CORS_EXPOSED_HEADERS, JSON_SECURITY_HEADERS } from "./security-headers.js";

export interface DoorShedOptions {
  /** Whether requests for `service` are refused at the door now (Bulkhead.overloaded). */
  overloaded: (service: string) => boolean;
  /**
   * Whether the service refused this operation (method, path) a moment ago (ShedEcho.refusing):
   * then it is refused here too, a request with a small body included.
   */
  echoed?: (method: string, url: string) => boolean;
  /** Called for each request refused at the door (a counter; it must be cheap). */
  onShed: (service: string) => void;
  /**
   * Origins allowed cross-origin access (the gateway's CORS list): a refusal to one of them
   * carries the CORS headers, or its script would see a network error instead of the 503.
   */
  corsOrigins?: readonly string[];
}

/** What Fastify's `serverFactory` is given and returns (HTTP/1.1, no TLS: the gateway's case). */
type ServerFactory = (
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  options: Record<string, unknown>,
) => Server;

/**
 * The gateway's HTTP server (Fastify's `serverFactory`), with the cheapest refusal there is: a
 * request for a service whose queue is overloaded (UpstreamQueue.overloaded) is answered 503
 * with `Retry-After` before Fastify sees it, with a body and headers made once.
 *
 * Why before every stage: a refusal is only worth it if it costs far less than the work it saves.
 * Through the pipeline (ids, security headers, rate limit, authentication, tracing, the access
 * log) a 503 cost about a third of a served catalog read on the one event loop of `npm start`,
 * and at twice the read rate the platform sustains, refusing the excess that way took the
 * capacity the rest needed (0.64x of saturation served). At the door it costs a thirtieth.
 * What is skipped is per-request bookkeeping for requests that do nothing: they are counted
 * (`blossom_gateway_shed_total{stage="door"}`) and logged once a second in a summary line.
 *
 * Only requests without a body and without a `Prefer` header are refused here for an overloaded
 * queue (a held request, `Prefer: wait`, has slots of its own), and only on a path a service owns.
 * Anything else goes through the stages as usual, and is refused in the queue. An operation the
 * service itself just shed (shed-echo.ts) is refused here with a body of up to 64 KiB too: Node
 * reads and discards the rest of it after the answer, so the connection stays usable.
 */
export function doorShedServer(options: DoorShedOptions): ServerFactory {
  const allowed = new Set(options.corsOrigins ?? []);
  return (handler, fastifyOptions) => {
    const server = createServer((request, response) => {
      const service = shedFor(request, options);
      if (service === undefined) {
        handler(request, response);
        return;
      }
      options.onShed(service);
      const origin = request.headers.origin;
      response.writeHead(503, {
        ...JSON_SECURITY_HEADERS,
        ...(origin !== undefined && allowed.has(origin) ? corsHeaders(origin) : {}),
        "content-type": PROBLEM_CONTENT_TYPE,
        "content-length": SHED_BODY.length,
        "cache-control": "no-store",
        "retry-after": "1",
        "x-request-id": safeIdHeader(request.headers["x-request-id"]) ?? randomUUID(),
      });
      response.end(request.method === "HEAD" ? undefined : SHED_BODY);
    });
    // What Fastify sets on a server it makes itself (a factory's server gets none of it).
    const { keepAliveTimeout, requestTimeout, connectionTimeout, maxRequestsPerSocket } = fastifyOptions;
    if (typeof keepAliveTimeout === "number") server.keepAliveTimeout = keepAliveTimeout;
    if (typeof requestTimeout === "number") server.requestTimeout = requestTimeout;
    if (typeof connectionTimeout === "number") server.setTimeout(connectionTimeout);
    if (typeof maxRequestsPerSocket === "number" && maxRequestsPerSocket > 0)
      server.maxRequestsPerSocket = maxRequestsPerSocket;
    return server;
  };
}

/** What @fastify/cors sends a listed origin on an actual (not preflight) request. */
function corsHeaders(origin: string): Record<string, string> {
  return { "access-control-allow-origin": origin, vary: "Origin", "access-control-expose-headers": EXPOSED };
}

const EXPOSED = CORS_EXPOSED_HEADERS.join(",");

/** The largest body a request refused at the door for an echoed shed may have (read and dropped). */
const ECHO_BODY_BYTES = 64 * 1024;

/** The service a request is refused for at the door, or undefined to let it in. */
function shedFor(request: IncomingMessage, options: DoorShedOptions): string | undefined {
  const { url, headers, method } = request;
  if (url === undefined || method === undefined || method === "OPTIONS") return undefined;
  if (headers.prefer !== undefined || headers["transfer-encoding"] !== undefined) return undefined;
  const service = routeFor(url);
  if (service === undefined) return undefined;
  const length = headers["content-length"];
  if ((length === undefined || length === "0") && options.overloaded(service)) return service;
  const small = length === undefined || Number(length) <= ECHO_BODY_BYTES;
  return small && options.echoed?.(method, url) ? service : undefined;
}

const SHED_BODY = Buffer.from(
  JSON.stringify({
    type: problemType("service-unavailable"),
    title: "Service unavailable",
    status: 503,
    detail:
      "The service is answering slower than requests arrive; this one was not sent to it. Retry after the delay in Retry-After.",
  }),
);

/**
 * Counts refusals per upstream and logs them as one line per second at most (`info`: shedding
 * is the design working): a line per refused request would cost more than the refusal.
 */
export function shedSummary(logger: Logger, everyMs = 1000): (service: string) => void {
  let counts: Record<string, number> | undefined;
  return (service) => {
    if (counts === undefined) {
      const window: Record<string, number> = {};
      counts = window;
      setTimeout(() => {
        counts = undefined;
        logger.info({ shed: window, window_ms: everyMs }, "requests shed at the door");
      }, everyMs).unref();
    }
    counts[service] = (counts[service] ?? 0) + 1;
  };
}
