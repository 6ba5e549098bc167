import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { ATTR_BLOSSOM_SERVICE } from "./attributes.js";
import { recordError } from "./errors.js";
import { currentTracing } from "./start-tracing.js";

/** What the server span of an incoming request is made of: what the framework knows at its first hook. */
export interface IncomingRequest {
  /** The service that owns the server (`blossom.service`). */
  service: string;
  method: string;
  /** The route template (`/api/orders/:id`), when the router matched one. */
  route: string | undefined;
  /** The path without the query (the query may carry anything: it is not recorded). */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  scheme: string;
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
  clientAddress?: string | undefined;
  httpVersion: string;
}

/** A request's HTTP server span. */
export type ServerSpan = Span;

/** Paths polled by probes and scrapers every few seconds: as traces they would crowd real ones out. */
const UNTRACED_PREFIXES = ["/health/", "/metrics"];

function isUntraced(path: string): boolean {
  for (const prefix of UNTRACED_PREFIXES) if (path.startsWith(prefix)) return true;
  return false;
}

const ended = new WeakSet<Span>();
/** Spans whose exception was recorded (its `error.type` says more than the status code). */
const errorRecorded = new WeakSet<Span>();

/**
 * Starts the HTTP SERVER span of an incoming request, parented on its `traceparent`, and runs
 * `next` (the rest of the request's handling) in its context; answers the span, or undefined when
 * tracing is off or the path is a probe's.
 *
 * Why not @opentelemetry/instrumentation-http for incoming requests: it binds the request and
 * response emitters to the context (every listener wrapped) and computes its attributes from
 * the raw message; measured on a product read through the gateway it cost ~0.6 ms of CPU per
 * request — most of the tracing overhead. Fastify already knows the route, the method and the
 * addresses, and its hooks keep the context across body parsing, so the span starts here, with
 * the same stable semantic-convention attributes, and ends in `endServerSpan`.
 */
export function runInServerSpan(request: IncomingRequest, next: () => void): Span | undefined {
  if (!currentTracing()?.enabled || isUntraced(request.path)) {
    next();
    return undefined;
  }
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const attributes: Attributes = {
    [ATTR_BLOSSOM_SERVICE]: request.service,
    "http.request.method": request.method,
    "url.path": request.path,
    "url.scheme": request.scheme,
    "network.protocol.version": request.httpVersion,
  };
  if (request.route) attributes["http.route"] = request.route;
  if (request.serverAddress) attributes["server.address"] = request.serverAddress;
  if (request.serverPort) attributes["server.port"] = request.serverPort;
  if (request.clientAddress) attributes["client.address"] = request.clientAddress;
  const userAgent = request.headers["user-agent"];
  if (typeof userAgent === "string") attributes["user_agent.original"] = userAgent;
  const span = trace
    .getTracer("@blossom/telemetry/http-server")
    .startSpan(
      request.route ? `${request.method} ${request.route}` : request.method,
      { kind: SpanKind.SERVER, attributes },
      parent,
    );
  context.with(trace.setSpan(parent, span), next);
  return span;
}

/**
 * Ends a request's server span with its status: a 5xx is a failure of the server (status ERROR,
 * `error.type` the status code unless an exception said more); a 4xx is the client's and leaves
 * the status unset, as the HTTP conventions say. `aborted`: the client went away first.
 */
export function endServerSpan(span: Span | undefined, status: number, aborted = false): void {
  if (!span || ended.has(span)) return;
  ended.add(span);
  span.setAttribute("http.response.status_code", status);
  if (aborted) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: "aborted" });
    span.setAttribute("error.type", "aborted");
  } else if (status >= 500 && !errorRecorded.has(span)) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute("error.type", String(status));
  }
  span.end();
}

/** Records an error that became a 5xx on a request's span (4xx are the caller's, not failures). */
export function recordServerError(span: Span | undefined, error: unknown): void {
  if (!span || ended.has(span)) return;
  errorRecorded.add(span);
  recordError(span, error);
}
