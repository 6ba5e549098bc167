import { fastifySwagger } from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { PROBLEM_CONTENT_TYPE } from "./problem.js";

/** Where every server publishes its OpenAPI document. */
export const OPENAPI_PATH = "/openapi.json";

/** Paths that are operational, not API: never in a document. */
const HIDDEN_PREFIXES = ["/health/", OPENAPI_PATH, "/docs"];

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** The RFC 9457 problem every error answer is; the shared `default` response of each operation. */
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

function isHidden(url: string): boolean {
  return HIDDEN_PREFIXES.some((prefix) => url === prefix || url.startsWith(prefix));
}

/**
 * Adds the shared problem schema and a `default` problem+json response to every operation, so
 * that error answers are documented once for the whole API.
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
      responses.default ??= {
        description: "A problem (RFC 9457)",
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: "#/components/schemas/Problem" } } },
      };
      next[method] = { ...operation, responses };
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
 * and its security requirement (none for "public", the bearer scheme otherwise).
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
