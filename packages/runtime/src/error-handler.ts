import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { logSafeUrl } from "./log-safe-url.js";
import { HttpProblem, isHttpProblem, PROBLEM_CONTENT_TYPE, type ProblemKind } from "./problem.js";
import { correlationIdOf } from "./request-context.js";

const KIND_BY_STATUS: Record<number, ProblemKind> = {
  400: "malformedBody",
  401: "unauthorized",
  403: "forbidden",
  404: "notFound",
  405: "methodNotAllowed",
  409: "conflict",
  413: "payloadTooLarge",
  414: "uriTooLong",
  415: "unsupportedMediaType",
  422: "unprocessable",
  429: "rateLimited",
  502: "badGateway",
  503: "unavailable",
  504: "gatewayTimeout",
};

/**
 * Errors of `@blossom/client` (recognised by their stable `code`, so the runtime does not depend
 * on the client): a failing upstream is the platform's problem, never the caller's. 503 (with
 * `Retry-After`) only when the request provably was not carried out; one that changes something
 * and may have been (the client's `outcomeUnknown`) is 504 `outcome-unknown`.
 */
const UPSTREAM_KINDS: Record<string, { kind: ProblemKind; says: string }> = {
  UPSTREAM_TIMEOUT: { kind: "gatewayTimeout", says: "did not answer in time" },
  UPSTREAM_UNAVAILABLE: { kind: "unavailable", says: "is unavailable" },
  UPSTREAM_HTTP_ERROR: { kind: "badGateway", says: "failed" },
  UPSTREAM_PROTOCOL_ERROR: { kind: "badGateway", says: "answered something unreadable" },
};

/** What an upstream failure whose outcome is unknown says happened, by the client's error code. */
const UNKNOWN_OUTCOME_SAYS: Record<string, string> = {
  UPSTREAM_TIMEOUT: "did not answer in time",
  UPSTREAM_UNAVAILABLE: "dropped the connection",
  UPSTREAM_HTTP_ERROR: "failed",
};

const IDEMPOTENT_METHODS = new Set(["PUT", "DELETE"]);

/**
 * 503 means "nothing was done, retry after Retry-After"; a write that reached the upstream (or
 * may have) and got no answer is not that: 504 `outcome-unknown`, which says how to find out.
 */
function outcomeUnknownProblem(upstream: string, says: string, method: unknown, idempotent: unknown) {
  const retry =
    idempotent === true && typeof method === "string" && IDEMPOTENT_METHODS.has(method.toUpperCase())
      ? "Repeating the request is safe."
      : idempotent === true
        ? "Retrying with the same Idempotency-Key is safe: it answers what the original request did."
        : "Check whether it took effect before repeating it; with an Idempotency-Key a retry would be safe.";
  const problem = HttpProblem.of(
    "outcomeUnknown",
    `The ${upstream} service ${says} after it may have received the request: it may or may not have been carried out. ${retry}`,
    { upstream },
  );
  // The request may still be running upstream: a retry (with the same key) a moment later finds
  // its result, and clients that retry at once do not pile onto a service that is behind.
  problem.headers["retry-after"] = "1";
  return problem;
}

function upstreamProblem(error: unknown): HttpProblem | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, upstream, outcomeUnknown, method, idempotent } = error as {
    code?: unknown;
    upstream?: unknown;
    outcomeUnknown?: unknown;
    method?: unknown;
    idempotent?: unknown;
  };
  const known = typeof code === "string" ? UPSTREAM_KINDS[code] : undefined;
  if (!known || typeof upstream !== "string") return undefined;
  const unknownSays = outcomeUnknown === true ? UNKNOWN_OUTCOME_SAYS[code as string] : undefined;
  if (unknownSays !== undefined) return outcomeUnknownProblem(upstream, unknownSays, method, idempotent);
  // Name the upstream service, but not its instance address: clients need not know the topology.
  const problem = HttpProblem.of(known.kind, `The ${upstream} service ${known.says}.`, { upstream });
  if (known.kind === "unavailable") problem.headers["retry-after"] = "1";
  return problem;
}

/**
 * PostgreSQL's SQLSTATEs for text it cannot store: a NUL (U+0000) in a text parameter (22021)
 * or escaped in JSON (22P05). Only a client's input carries one, so it is the client's mistake.
 */
const UNSTORABLE_TEXT_CODES = new Set(["22021", "22P05"]);

function isUnstorableText(error: unknown): boolean {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && UNSTORABLE_TEXT_CODES.has(code);
}

/**
 * A lost database connection (the server shut it down: 57P01-57P03; a connection exception: class
 * 08; or the socket itself failed) before anything was committed (a transaction rolls back when
 * its connection goes; one lost during the COMMIT is the store's `OutcomeUnknownError`, above) is
 * the platform's passing trouble, not the client's: answered 503 with Retry-After, so a client (or the gateway, for a write carrying an Idempotency-Key)
 * retries once the pool has reconnected, instead of seeing a 500 for a request that may succeed.
 */
const LOST_CONNECTION_CODES = new Set(["57P01", "57P02", "57P03", "ECONNRESET", "ECONNREFUSED", "EPIPE"]);
const LOST_CONNECTION_MESSAGES = [/^Connection terminated/, /Client has encountered a connection error/];

function isLostConnection(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (LOST_CONNECTION_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
    return true;
  return typeof message === "string" && LOST_CONNECTION_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * A prepared statement whose plan a schema change made stale (`@blossom/store`'s prepared
 * statements on PostgreSQL: another replica's migration changed the columns it returns, and the
 * server refused the old plan with 0A000). Inside a transaction the refusal rolled it back, and
 * the statement is prepared again on its next run: nothing was done, a retry works, so 503.
 */
function isStalePlan(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    code === "0A000" && typeof message === "string" && /cached plan must not change result type/.test(message)
  );
}

/**
 * `@blossom/store`'s `OutcomeUnknownError` (recognised by its stable `code`, so the runtime does
 * not depend on the store): the connection was lost while a COMMIT (or a write that commits by
 * itself) was in flight, so the write may have been committed. Not a 503, which would say
 * nothing was done: 504 `outcome-unknown`, as for an upstream that gave no answer.
 */
const DATABASE_OUTCOME_UNKNOWN = "DATABASE_OUTCOME_UNKNOWN";

function isDatabaseOutcomeUnknown(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { code?: unknown }).code === DATABASE_OUTCOME_UNKNOWN
  );
}

function databaseOutcomeUnknownProblem(): HttpProblem {
  const problem = HttpProblem.of(
    "outcomeUnknown",
    "The service lost its database connection while committing the request: it may or may not have been carried out. Retrying with the same Idempotency-Key (or repeating a PUT or DELETE) is safe; otherwise check whether it took effect before repeating it.",
  );
  problem.headers["retry-after"] = "1";
  return problem;
}

/** Turns any thrown error into the problem a client may see; never leaks a stack or an internal message. */
export function toProblem(error: unknown): HttpProblem {
  if (isHttpProblem(error)) return error;
  if (isUnstorableText(error))
    return HttpProblem.of("validation", "Text must not contain NUL (U+0000) characters.");
  const fastifyError = error as Partial<FastifyError> | undefined;
  if (fastifyError?.validation) {
    const errors = fastifyError.validation.map((issue) => ({
      in: fastifyError.validationContext ?? "request",
      pointer: issue.instancePath || "/",
      message: issue.message ?? "is not valid",
      ...(issue.keyword === "required"
        ? { missing: (issue.params as { missingProperty?: string }).missingProperty }
        : {}),
    }));
    const first = errors[0];
    const detail = first
      ? `${first.in}${first.pointer === "/" ? "" : first.pointer} ${first.message}`
      : undefined;
    return HttpProblem.of("validation", detail, { errors });
  }
  const upstream = upstreamProblem(error);
  if (upstream) return upstream;
  if (isDatabaseOutcomeUnknown(error)) return databaseOutcomeUnknownProblem();
  if (isLostConnection(error)) {
    const problem = HttpProblem.of("unavailable", "The service lost its database connection; retry shortly.");
    problem.headers["retry-after"] = "1";
    return problem;
  }
  if (isStalePlan(error)) {
    const problem = HttpProblem.of(
      "unavailable",
      "The database's schema changed under the request; retry shortly.",
    );
    problem.headers["retry-after"] = "1";
    return problem;
  }
  const status = fastifyError?.statusCode;
  if (status && status >= 400 && status < 500) {
    const kind = KIND_BY_STATUS[status] ?? "malformedBody";
    // Fastify's own 4xx messages (bad JSON, too large, wrong media type) are safe and helpful.
    return HttpProblem.of(kind, fastifyError?.message);
  }
  return HttpProblem.of("internal", "The service failed to handle the request; it was logged.");
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: HttpProblem,
): FastifyReply {
  for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
  return reply
    .code(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...problem.toJSON(request.url.split("?")[0]), requestId: request.id });
}

/** Fastify's router refuses a path parameter longer than this (its `maxParamLength`). */
export const MAX_PATH_PARAM_LENGTH = 100;

/**
 * Fastify's router answers a path parameter longer than `maxParamLength` (414) and a URL whose
 * percent-encoding does not decode (400) itself, before any hook or the error handler runs, with
 * its own JSON: passed as the server's `frameworkErrors`, this makes them problems like any other.
 * The hooks that set the id headers and write the access line do not run for them, so it does both.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const problem =
    error.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? HttpProblem.of("uriTooLong", `A path segment is longer than ${MAX_PATH_PARAM_LENGTH} characters.`)
      : error.code === "FST_ERR_BAD_URL"
        ? HttpProblem.of("malformedUrl", "The URL's percent-encoding is not valid.")
        : toProblem(error);
  // The path is the client's (possibly 5,000 characters long): keep the log line short.
  request.log.info(
    {
      method: request.method,
      url: logSafeUrl(request.url).slice(0, 200),
      route: "unmatched",
      status: problem.status,
    },
    "request",
  );
  reply.header("x-request-id", request.id);
  reply.header("x-correlation-id", correlationIdOf(request));
  sendProblem(request, reply, problem);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error);
    if (isHttpProblem(error)) {
      // A problem the code chose to answer: its type says what happened, a stack would not. Load
      // shed before any work (503) is the platform working as designed under a burst: info.
      if (problem.status === 503)
        request.log.info({ problem: problem.type, detail: problem.message }, "request shed");
      else if (problem.status >= 500)
        request.log.warn({ problem: problem.type, detail: problem.message }, "request failed");
    } else if (problem.status >= 500 && problem.status !== 500)
      request.log.warn(
        { err: error },
        isDatabaseOutcomeUnknown(error)
          ? "database connection lost during a commit"
          : isLostConnection(error)
            ? "database connection lost"
            : "upstream failed",
      );
    else if (problem.status >= 500) request.log.error({ err: error }, "request failed");
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      HttpProblem.of("notFound", `No route for ${request.method} ${request.url.split("?")[0]}`),
    ),
  );
}
