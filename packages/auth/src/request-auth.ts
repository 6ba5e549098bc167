import { HttpProblem } from "@blossom/runtime";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Principal, ServicePrincipal } from "./claims.js";
import { InvalidTokenError, type TokenVerifier } from "./token-verifier.js";

/**
 * Who may call a route, declared once in its options as `config: { auth }`:
 * - `public`: anyone (a bearer token, if sent, must still be valid);
 * - `user`: a signed-in user (a user's access token);
 * - `admin`: a signed-in user with the admin role;
 * - `service`: another Blossom service (a service token; the handler names which services).
 * The services enforce it before they validate input, the OpenAPI document publishes it
 * (`x-blossom-access` and the operation's security), and the gateway's list of public routes is
 * checked against it.
 */
export type RouteAccess = "public" | "user" | "admin" | "service";
export const ROUTE_ACCESS: readonly RouteAccess[] = ["public", "user", "admin", "service"];

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call the route: see `RouteAccess`. Every service route declares it. */
    auth?: RouteAccess;
  }
  interface FastifyRequest {
    /** The verified user, when the request carried a valid user's access token. */
    principal: Principal | undefined;
    /** The verified calling service, when the request carried a valid service token. */
    servicePrincipal: ServicePrincipal | undefined;
  }
}

/**
 * The 401 problem for a missing or refused token, with the `WWW-Authenticate` challenge of RFC
 * 6750 (`error` and its description when a token was sent but is not acceptable). The services
 * and the gateway's edge answer it alike.
 */
export function unauthorized(detail: string, error?: "invalid_token" | "invalid_request"): HttpProblem {
  const challenge = error
    ? `Bearer realm="blossom", error="${error}", error_description="${detail.replace(/"/g, "'")}"`
    : 'Bearer realm="blossom"';
  return new HttpProblem({
    status: 401,
    slug: "unauthorized",
    title: "Authentication is required",
    detail,
    headers: { "www-authenticate": challenge },
  });
}

/**
 * Verifies the bearer token of every request that carries one, before its handler runs. A
 * present but invalid token is refused at once (401 with `WWW-Authenticate`), never treated as
 * anonymous. A user's access token sets `request.principal`, a service token
 * `request.servicePrincipal` — never both, and never one for the other. Then the route's
 * declared access (`config: { auth }`, see `RouteAccess`) is enforced, in `preValidation`: the
 * wrong caller learns "sign in" (401) or "not allowed" (403) before anything about their input
 * (400). Every route registered after this must declare its access: one that does not is refused
 * at registration, so that no route can be protected only by a check in its handler.
 */
export function registerAuthentication(app: FastifyInstance, verifier: TokenVerifier): void {
  app.decorateRequest("principal", undefined);
  app.decorateRequest("servicePrincipal", undefined);
  app.addHook("onRoute", (route) => {
    const declared = route.config?.auth;
    if (declared === undefined || !ROUTE_ACCESS.includes(declared))
      throw new Error(
        `${route.method} ${route.url}: declare who may call it with config: { auth: ${ROUTE_ACCESS.map((a) => `"${a}"`).join(" | ")} }`,
      );
  });
  app.addHook("preValidation", async (request) => {
    const header = request.headers.authorization;
    if (header) {
      const match = /^Bearer ([A-Za-z0-9\-_.]+)$/.exec(header);
      if (!match?.[1])
        throw unauthorized("the Authorization header must be 'Bearer <token>'", "invalid_request");
      try {
        const identity = await verifier.identify(match[1]);
        if (identity.kind === "user") request.principal = identity.user;
        else request.servicePrincipal = identity.service;
      } catch (error) {
        if (error instanceof InvalidTokenError) throw unauthorized(error.message, "invalid_token");
        throw error;
      }
    }
    const needs = request.routeOptions.config?.auth;
    if (needs === "user") requireUser(request);
    else if (needs === "admin") requireAdmin(request);
    // Which services may call is the handler's to say; that it is a service is checked here.
    else if (needs === "service") requireService(request, "any");
  });
}

/** The signed-in caller, or a 401 problem (a service token does not sign anybody in). */
export function requireUser(request: FastifyRequest): Principal {
  if (request.servicePrincipal)
    throw unauthorized(
      "a service token does not sign a user in: send a user's access token",
      "invalid_token",
    );
  if (!request.principal)
    throw unauthorized("sign in and send the access token as 'Authorization: Bearer <token>'");
  return request.principal;
}

/** A signed-in admin, or 401 (not signed in) / 403 (signed in without the role). */
export function requireAdmin(request: FastifyRequest): Principal {
  const principal = requireUser(request);
  if (principal.role !== "admin") throw HttpProblem.of("forbidden", "this action needs the admin role");
  return principal;
}

/**
 * A service-to-service route's caller: one of the `allowed` services, with its own service
 * token. 401 without a token or with a user's access token (that is the wrong kind of
 * credential for this route, whoever the user is); 403 for the token of a service not allowed.
 */
export function requireService(
  request: FastifyRequest,
  allowed: readonly string[] | "any",
): ServicePrincipal {
  if (request.principal)
    throw unauthorized("this route takes a service token, not a user's access token", "invalid_token");
  const caller = request.servicePrincipal;
  if (!caller) throw unauthorized("send the calling service's token as 'Authorization: Bearer <token>'");
  if (allowed !== "any" && !allowed.includes(caller.service))
    throw HttpProblem.of("forbidden", `the ${caller.service} service may not call this route`);
  return caller;
}
