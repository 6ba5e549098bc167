import { fastifySwagger } from "@fastify/swagger";
import { type TUnsafe, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { PROBLEM_CONTENT_TYPE } from "./problem.js";

/** Where every server publishes its OpenAPI document. */
export const OPENAPI_PATH = "/openapi.json";

/** Paths that are operational, not API: never in a document. */
const HIDDEN_PREFIXES = ["/health/", OPENAPI_PATH, "/docs"];

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** The RFC 9457 problem every error answer is: the schema of every problem response of every operation. */
export const ProblemSchema = {
  type: "object",
  required: ["type", "title", "status"],
  properties: {
    type: { type: "string", format: "uri" },
    title: { type: "string" },
    status: { type: "integer", minimum: 400, maximum: 599 },
    detail: { type: "string" },
    instance: { type: "string" },
    requestId: { type: "string" },
  },
  additionalProperties: true,
} as const;

type Json = Record<string, unknown>;

/** An OpenAPI header object: a header an answer carries besides its body. */
export interface ResponseHeader {
  description: string;
  required?: boolean;
  schema: Json;
}

/**
 * The ids every answer carries (the server factory sets them on each request, the gateway as
 * well, and on the router's own 400 and 414 too).
 */
export const ID_RESPONSE_HEADERS: Readonly<Record<string, ResponseHeader>> = {
  "X-Request-Id": {
    description:
      "This request's id: the caller's `X-Request-Id` when it is 1 to 128 of `A-Za-z0-9._:-`, else a new UUID. Every log line about the request names it.",
    required: true,
    schema: { type: "string", minLength: 1, maxLength: 128 },
  },
  "X-Correlation-Id": {
    description:
      "The id of the whole conversation: the caller's `X-Correlation-Id` when it is 1 to 128 of `A-Za-z0-9._:-`, else the request id. It travels on to every service and event the request causes.",
    required: true,
    schema: { type: "string", minLength: 1, maxLength: 128 },
  },
};

const RETRY_AFTER: ResponseHeader = {
  description: "Seconds to wait before trying again.",
  schema: { type: "integer", minimum: 0 },
};

const WWW_AUTHENTICATE: ResponseHeader = {
  description: 'The bearer challenge (RFC 6750), with `error="invalid_token"` for a token that was refused.',
  schema: { type: "string" },
};

/** Headers of the problem answers of one status, besides the ids. */
const PROBLEM_HEADERS: Readonly<Record<string, Record<string, ResponseHeader>>> = {
  "401": { "WWW-Authenticate": WWW_AUTHENTICATE },
  "429": { "Retry-After": RETRY_AFTER },
  "503": { "Retry-After": RETRY_AFTER },
  "504": { "Retry-After": RETRY_AFTER },
};

/** What each problem status every operation may answer means; see `problemStatuses`. */
const PROBLEM_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "400":
    "The request is not valid: `validation-error` names each offending field in `errors`; `malformed-body` for a body that is not JSON",
  "401":
    "No valid bearer token: none where the route needs one, or one that is refused (expired, badly signed), on any route it is sent to",
  "403": "The caller's role (or service) may not call this route",
  "404": "Nothing of that id, or nothing the caller may see (answered alike)",
  "413": "The request body is larger than the limit (1 MiB by default)",
  "414": "A path segment is longer than 100 characters",
  "415": "The request body is not `application/json`",
  "429": "Too many requests: try again after `Retry-After` seconds",
  "503":
    "Nothing was done: overloaded, or a dependency is unavailable for a moment (no instance, circuit breaker open, connection refused). Try again after `Retry-After` seconds; repeating a write is safe",
  "504":
    "No answer in time. `gateway-timeout`: nothing was changed (a read). `outcome-unknown`: a write reached the service, or may have, and its answer was lost, so it may or may not have been carried out; retrying it with the same `Idempotency-Key` (after `Retry-After` seconds) is safe and answers exactly what the original request did",
};

/**
 * The problem statuses an operation may answer whatever it does, derived from what its route
 * declares: 400 when it takes any input (parameters or a body), 401 always (a token that is sent
 * is verified even on public routes), 403 for admin and service routes, 404 and 414 when its path
 * has parameters, 413 and 415 when it takes a body, 429 (rate limits), 503 (overload, a
 * dependency down: nothing was done) and 504 (no answer in time: for a write, outcome unknown)
 * always. A route declares any other (409, 422, its own 403 or 404) in `schema.response` with
 * `problemResponse`.
 */
export function problemStatuses(operation: Json): string[] {
  const parameters = (operation.parameters as Array<{ in?: unknown }> | undefined) ?? [];
  const body = operation.requestBody !== undefined;
  const access = operation["x-blossom-access"];
  return [
    ...(parameters.length > 0 || body ? ["400"] : []),
    "401",
    ...(access === "admin" || access === "service" ? ["403"] : []),
    ...(parameters.some((parameter) => parameter.in === "path") ? ["404", "414"] : []),
    ...(body ? ["413", "415"] : []),
    "429",
    "503",
    "504",
  ];
}

/**
 * A problem answer a route declares besides the derived ones (`problemStatuses`), e.g.
 * `response: { 201: View, 409: problemResponse("A product with this SKU exists (`sku-taken`)") }`.
 * The document shows it as the shared Problem (problem+json); the server serializes the problem
 * it throws by the same schema. Typed `never`: it is thrown as an `HttpProblem`, never sent by hand.
 */
export function problemResponse(description: string): TUnsafe<never> {
  return Type.Unsafe<never>({ ...ProblemSchema, description });
}

/**
 * An answer without a body (204): `response: { 204: noContentResponse("Signed out") }`, sent
 * with `reply.code(204).send()`. The document shows no content (`type: "null"`).
 */
export function noContentResponse(description: string): TUnsafe<undefined> {
  return Type.Unsafe<undefined>({ type: "null", description });
}

/**
 * `schema` (a response's) with headers for the document: @fastify/swagger turns a response
 * schema's `headers` into the response's header objects; the serializer ignores them.
 */
export function withResponseHeaders<T extends object>(
  schema: T,
  headers: Readonly<Record<string, { description: string } & Json>>,
): T {
  return { ...schema, headers };
}

function isHidden(url: string): boolean {
  return HIDDEN_PREFIXES.some((prefix) => url === prefix || url.startsWith(prefix));
}

const isProblemStatus = (status: string) => status === "default" || Number(status) >= 400;

const PROBLEM_CONTENT = {
  [PROBLEM_CONTENT_TYPE]: { schema: { $ref: "#/components/schemas/Problem" } },
};

/** `responses` in status order, `default` last. */
function sortedResponses(responses: Json): Json {
  const order = (status: string) => (status === "default" ? 1000 : Number.parseInt(status, 10));
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => order(a) - order(b)));
}

/**
 * Every response of every operation of `document` with `headers` added (`only` picks the
 * statuses, `default` included), beside the headers it documents already.
 */
export function withHeadersOnEveryResponse(
  document: Json,
  headers: Readonly<Record<string, ResponseHeader>>,
  only: (status: string) => boolean = () => true,
): Json {
  const paths: Json = {};
  for (const [path, item] of Object.entries((document.paths as Json | undefined) ?? {})) {
    const next: Json = { ...(item as Json) };
    for (const method of HTTP_METHODS) {
      const operation = next[method] as Json | undefined;
      if (!operation) continue;
      const responses: Json = {};
      for (const [status, response] of Object.entries((operation.responses as Json | undefined) ?? {})) {
        const own = response as Json;
        responses[status] = only(status)
          ? { ...own, headers: { ...((own.headers as Json | undefined) ?? {}), ...headers } }
          : own;
      }
      next[method] = { ...operation, responses };
    }
    paths[path] = next;
  }
  return { ...document, paths };
}

/**
 * Adds the shared problem schema and the problem answers to every operation: the statuses it
 * may answer whatever it does (`problemStatuses`), those its route declares, and a `default`
 * for anything else (a 500, a 502 from the gateway); each one a problem+json `$ref` to
 * the shared Problem. Every answer, success or problem, documents the id headers.
 */
export function withProblemResponses(document: Json): Json {
  const components = { ...((document.components as Json | undefined) ?? {}) };
  components.schemas = { ...((components.schemas as Json | undefined) ?? {}), Problem: ProblemSchema };
  const paths: Json = {};
  for (const [path, item] of Object.entries((document.paths as Json | undefined) ?? {})) {
    const next: Json = { ...(item as Json) };
    for (const method of HTTP_METHODS) {
      const operation = next[method] as Json | undefined;
      if (!operation) continue;
      const responses = { ...((operation.responses as Json | undefined) ?? {}) };
      for (const status of problemStatuses(operation))
        responses[status] ??= { description: PROBLEM_DESCRIPTIONS[status] };
      responses.default ??= { description: "A problem (RFC 9457)" };
      for (const [status, response] of Object.entries(responses)) {
        const own = response as Json;
        const headers = {
          ...((own.headers as Json | undefined) ?? {}),
          ...(isProblemStatus(status) ? PROBLEM_HEADERS[status] : {}),
          ...ID_RESPONSE_HEADERS,
        };
        responses[status] = isProblemStatus(status)
          ? { description: own.description, headers, content: PROBLEM_CONTENT }
          : { ...own, headers };
      }
      next[method] = { ...operation, responses: sortedResponses(responses) };
    }
    paths[path] = next;
  }
  return { ...document, components, paths };
}

/**
 * Makes `app` build an OpenAPI 3.1 document from its routes' TypeBox schemas (`app.swagger()`).
 * Must run before any route is added: @fastify/swagger's setup runs here synchronously, not as a
 * deferred plugin, so that its `onRoute` hook sees the routes the service adds right after
 * `createServer`. Health routes and the document itself are hidden; untagged routes get the
 * service's name as tag; a route's declared `config: { auth }` becomes its `x-blossom-access`
 * and its security requirement (none for "public", the bearer scheme otherwise), and its
 * `config: { budgetMs }` its `x-blossom-budget-ms`.
 */
export function installOpenApi(app: FastifyInstance, service: string): void {
  fastifySwagger(
    app,
    {
      openapi: {
        openapi: "3.1.0",
        info: { title: `Blossom ${service}`, version: "0.1.0" },
        components: {
          securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
        },
        // A bearer token is optional in general (public routes ignore it); see per-operation security.
        security: [{}, { bearerAuth: [] }],
      },
      transform: ({ schema, url, route }) => {
        const next: Json = { ...((schema as Json | undefined) ?? {}) };
        if (isHidden(url)) next.hide = true;
        // A query parameter with a default is filled in when missing: optional for the caller.
        const query = next.querystring as
          | { required?: string[]; properties?: Record<string, Json> }
          | undefined;
        if (query?.required && query.properties) {
          const properties = query.properties;
          next.querystring = {
            ...query,
            required: query.required.filter((name) => properties[name]?.default === undefined),
          };
        }
        next.tags ??= [service];
        // Who may call, as the route declares it (`config.auth`): the gateway's classification and
        // the security tests read it back from the document as `x-blossom-access`.
        const auth = (route.config as { auth?: unknown } | undefined)?.auth;
        if (typeof auth === "string") {
          next["x-blossom-access"] = auth;
          if (next.security === undefined) next.security = auth === "public" ? [] : [{ bearerAuth: [] }];
        }
        // How long the route may legitimately take, when it declares it (password hashing): the
        // gateway's timeout for it (services/gateway/src/operation-budgets.generated.ts).
        const budgetMs = (route.config as { budgetMs?: unknown } | undefined)?.budgetMs;
        if (typeof budgetMs === "number") next["x-blossom-budget-ms"] = budgetMs;
        return { schema: next, url };
      },
      transformObject: (document) =>
        withProblemResponses(("openapiObject" in document ? document.openapiObject : {}) as Json),
    },
    (error) => {
      if (error) throw error;
    },
  );
}

/** `GET /openapi.json`: the server's own document. */
export function registerOpenApiRoute(app: FastifyInstance): void {
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async (_request, reply) => {
    reply.header("cache-control", "no-cache");
    return (app as unknown as { swagger(): unknown }).swagger();
  });
}

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * How long the route may legitimately take, in ms, when that is longer than an upstream call's
     * usual 2 s (password hashing under a queue). Published as `x-blossom-budget-ms`; the gateway
     * waits that long for the route (operation-budgets.generated.ts).
     */
    budgetMs?: number;
  }
}
