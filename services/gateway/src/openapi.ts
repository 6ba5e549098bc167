import { randomUUID } from "node:crypto";
import type { ServiceClients } from "@blossom/host";
import { type App, OPENAPI_PATH, runWithContext, withHeadersOnEveryResponse } from "@blossom/runtime";
// Loads @fastify/swagger's type augmentation (the `hide` schema option) for this project's own build.
import type {} from "@fastify/swagger";
import { fastifySwaggerUi } from "@fastify/swagger-ui";
import { mergeOpenApi, type ServiceDocument } from "./openapi-merge.js";
import { OPS_PREFIX } from "./ops-traces.js";
import { RATE_LIMIT_RESPONSE_HEADERS } from "./rate-limit.js";
import { UPSTREAM_SERVICES } from "./routing-table.js";

type Json = Record<string, unknown>;

export interface PlatformOpenApiOptions {
  /** How long a complete merged document is served before it is built again. Default 30 s. */
  ttlMs?: number;
  /** Per-service fetch timeout. Default 2 s. */
  timeoutMs?: number;
  /** The gateway's own document (its `/api/ops` routes are merged in). */
  own?: () => Json;
}

/**
 * The merged document of every service, fetched through their resilient clients and cached.
 * A document missing a service (it did not answer) is served but not cached, and names the
 * missing services in `x-unavailable-services`.
 */
export class PlatformOpenApi {
  readonly #clients: ServiceClients;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #own: (() => Json) | undefined;
  #cached: { document: Json; at: number } | undefined;
  #building: Promise<Json> | undefined;

  constructor(clients: ServiceClients, options: PlatformOpenApiOptions = {}) {
    this.#clients = clients;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#own = options.own;
  }

  /** The last built document, if any (for synchronous readers such as the docs UI). */
  get current(): Json | undefined {
    return this.#cached?.document;
  }

  async document(): Promise<Json> {
    if (this.#cached && Date.now() - this.#cached.at < this.#ttlMs) return this.#cached.document;
    // Concurrent callers share one build.
    this.#building ??= this.#build().finally(() => {
      this.#building = undefined;
    });
    return this.#building;
  }

  async #build(): Promise<Json> {
    // Outside the caller's request context: the shared document must not depend on (or forward)
    // one caller's Authorization header.
    const id = randomUUID();
    const results = await runWithContext({ requestId: id, correlationId: id }, () =>
      Promise.all(
        UPSTREAM_SERVICES.map(async (service): Promise<ServiceDocument | string> => {
          try {
            const document = await this.#clients
              .get(service)
              .getJson<Json>(OPENAPI_PATH, { timeoutMs: this.#timeoutMs });
            return { service, document };
          } catch {
            return service;
          }
        }),
      ),
    );
    const documents = results.filter((result): result is ServiceDocument => typeof result !== "string");
    const unavailable = results.filter((result): result is string => typeof result === "string");
    // Every answer through the gateway passes its rate limit: each response says so.
    const document = withHeadersOnEveryResponse(
      withGatewayOperations(mergeOpenApi(documents, unavailable), this.#own?.()),
      RATE_LIMIT_RESPONSE_HEADERS,
    );
    if (unavailable.length === 0) this.#cached = { document, at: Date.now() };
    return document;
  }
}

/**
 * The merged document plus the gateway's own operations API (`/api/ops/*`), which no service
 * publishes: the gateway's routes are the only other ones a client can reach.
 */
function withGatewayOperations(merged: Json, own: Json | undefined): Json {
  if (!own) return merged;
  const paths = { ...(merged.paths as Json) };
  for (const [path, item] of Object.entries((own.paths as Json | undefined) ?? {}))
    if (path === OPS_PREFIX || path.startsWith(`${OPS_PREFIX}/`)) paths[path] = item;
  const components = merged.components as Json;
  const schemas = {
    ...((own.components as Json | undefined)?.schemas as Json | undefined),
    ...(components.schemas as Json),
  };
  const tags = [
    ...(merged.tags as unknown[]),
    { name: "ops", description: "The gateway's operations API (admins)" },
  ];
  return { ...merged, tags, paths, components: { ...components, schemas } };
}

/**
 * `GET /openapi.json`: the platform's merged document; `GET /docs`: Swagger UI on it (its
 * assets are served from the package, nothing is loaded from the network). The UI reads
 * `/docs/json`, which serves the same merged document.
 */
export async function registerOpenApiDocs(
  app: App,
  clients: ServiceClients,
  options: PlatformOpenApiOptions = {},
): Promise<PlatformOpenApi> {
  const docs = new PlatformOpenApi(clients, {
    own: () => (app as unknown as { swagger(): Json }).swagger(),
    ...options,
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async (_request, reply) => {
    reply.header("cache-control", "no-cache");
    return docs.document();
  });
  // Called inside a plugin of our own rather than registered: registering checks that a plugin
  // named @fastify/swagger is registered, and the runtime installs swagger without registering
  // it (so that it sees the routes added synchronously after createServer).
  const ui = fastifySwaggerUi as unknown as (scope: unknown, options: Json) => Promise<void>;
  const uiOptions: Json = {
    routePrefix: "/docs",
    uiConfig: { deepLinking: true, persistAuthorization: false },
    uiHooks: {
      // Build (or refresh) the merged document before the UI's synchronous `/docs/json` reads it.
      preHandler: async (request: { url: string }) => {
        if (/\/docs\/(json|yaml)(\?|$)/.test(request.url)) await docs.document();
      },
    },
    transformSpecificationClone: false,
    transformSpecification: (ownDocument: Json) => docs.current ?? ownDocument,
  };
  await app.register(async (scope) => ui(scope, uiOptions));
  return docs;
}
