import type { Principal, TokenVerifier } from "@blossom/auth";
import { InvalidTokenError, unauthorized } from "@blossom/auth";
import { type App, HttpProblem } from "@blossom/runtime";
import type { FastifyRequest } from "fastify";
import { OPS_PREFIX } from "./ops-traces.js";
import { PUBLIC_OPERATIONS } from "./public-operations.generated.js";
import { routeFor } from "./routing-table.js";

/**
 * What the edge knows about the caller: no token, a verified user, or a token it refuses (401;
 * 503 when the signing keys cannot be fetched).
 */
export type EdgeIdentity =
  | { kind: "anonymous" }
  | { kind: "user"; principal: Principal }
  | { kind: "invalid"; problem: HttpProblem };

// A parameter of a public path: no dots or percent signs, so no `..` (plain or encoded) can turn
// a public path into another service's protected one further down the line (the canonical path
// stage refuses those already; this is the second lock).
const PARAMETER = "[A-Za-z0-9_-]+";

/** A path template of the OpenAPI document (`/api/inventory/products/{id}`) as an anchored pattern. */
export function templatePattern(template: string): RegExp {
  const parts = template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(PARAMETER)}$`);
}

/**
 * The routes anyone may call without a token, by method and path (query ignored). The services'
 * own are derived from their route declarations (public-operations.generated.ts); the gateway's
 * own routes (`/health/*`, `/docs`, `/openapi.json`) carry no data and are public too.
 * Everything else the gateway forwards needs a valid bearer token; a path no service owns is a 404.
 */
export const PUBLIC_ROUTES: ReadonlyArray<{ methods: readonly string[]; path: RegExp; label: string }> = [
  ...PUBLIC_OPERATIONS.map(({ method, path }) => ({
    methods: method === "GET" ? ["GET", "HEAD"] : [method],
    path: templatePattern(path),
    label: `${method} ${path}`,
  })),
  { methods: ["GET", "HEAD"], path: /^\/health\/[^/]+$/, label: "GET /health/*" },
  { methods: ["GET", "HEAD"], path: /^\/docs(\/.*)?$/, label: "GET /docs" },
  { methods: ["GET", "HEAD"], path: /^\/openapi\.json$/, label: "GET /openapi.json" },
];

function pathOf(url: string): string {
  return url.split("?")[0] ?? url;
}

/** Whether a call needs a token: every forwarded route except the public ones (and CORS preflights). */
export function requiresToken(method: string, url: string): boolean {
  if (method === "OPTIONS") return false;
  const path = pathOf(url);
  // The gateway's own operations API is never public.
  if (path === OPS_PREFIX || path.startsWith(`${OPS_PREFIX}/`)) return true;
  if (!routeFor(path)) return false;
  return !PUBLIC_ROUTES.some((route) => route.methods.includes(method) && route.path.test(path));
}

const identities = new WeakMap<FastifyRequest, Promise<EdgeIdentity>>();

const ANONYMOUS: EdgeIdentity = Object.freeze({ kind: "anonymous" });

async function identify(request: FastifyRequest, verifier: TokenVerifier): Promise<EdgeIdentity> {
  const header = request.headers.authorization;
  if (!header) return ANONYMOUS;
  const match = /^Bearer +([A-Za-z0-9\-_.]+)$/i.exec(header);
  if (!match?.[1])
    return {
      kind: "invalid",
      problem: unauthorized("the Authorization header must be 'Bearer <token>'", "invalid_request"),
    };
  try {
    return { kind: "user", principal: await verifier.verify(match[1]) };
  } catch (error) {
    if (error instanceof InvalidTokenError)
      return { kind: "invalid", problem: unauthorized(error.message, "invalid_token") };
    // The keys could not be fetched (users service down): the token is neither good nor bad yet.
    request.log.warn({ err: error }, "could not verify a bearer token");
    const problem = HttpProblem.of(
      "unavailable",
      "Access tokens cannot be verified right now; retry shortly.",
    );
    problem.headers["retry-after"] = "1";
    return { kind: "invalid", problem };
  }
}

/**
 * The caller's identity, verified once per request: the rate limiter keys by it and the
 * authentication stage enforces it, from the same verification.
 */
export function edgeIdentity(request: FastifyRequest, verifier: TokenVerifier): Promise<EdgeIdentity> {
  let identity = identities.get(request);
  if (!identity) {
    identity = identify(request, verifier);
    identities.set(request, identity);
  }
  return identity;
}

/**
 * Authentication at the edge (after rate limiting): a protected route without a token is 401
 * with `WWW-Authenticate: Bearer realm="blossom"`; a present token that fails verification is
 * 401 with `error="invalid_token"` on any route, public or not. A valid token's Authorization
 * header travels on unchanged: every service verifies it again (zero trust).
 */
export function registerEdgeAuthentication(app: App, verifier: TokenVerifier): void {
  if (!app.hasRequestDecorator("principal")) app.decorateRequest("principal", undefined);
  const enforce = (request: FastifyRequest, identity: EdgeIdentity): Error | undefined => {
    if (identity.kind === "invalid") return identity.problem;
    if (identity.kind === "user") {
      request.principal = identity.principal;
      return undefined;
    }
    if (requiresToken(request.method, request.url))
      return unauthorized("sign in and send the access token as 'Authorization: Bearer <token>'");
    return undefined;
  };
  // A callback hook: a request without a token (most anonymous reads) is decided without a
  // promise; one with a token waits for its (cached) verification.
  app.addHook("onRequest", (request, _reply, done) => {
    if (!request.headers.authorization) {
      const refused = enforce(request, ANONYMOUS);
      if (refused) done(refused);
      else done();
      return;
    }
    edgeIdentity(request, verifier).then((identity) => {
      const refused = enforce(request, identity);
      if (refused) done(refused);
      else done();
    }, done);
  });
}
