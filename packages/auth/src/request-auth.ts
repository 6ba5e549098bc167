import { HttpProblem } from "@blossom/runtime";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Principal, ServicePrincipal } from "./claims.js";
import { InvalidTokenError, type TokenVerifier } from "./token-verifier.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The verified user, when the request carried a valid user's access token. */
    principal: Principal | undefined;
    /** The verified calling service, when the request carried a valid service token. */
    servicePrincipal: ServicePrincipal | undefined;
  }
}

function unauthorized(detail: string, error?: "invalid_token" | "invalid_request"): HttpProblem {
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
 * `request.servicePrincipal` — never both, and never one for the other. Routes then say what they
 * need with `requireUser` / `requireAdmin` / `requireService`, and may declare
 * `config: { auth: "user" | "admin" | "service" }` so that anonymous calls are refused before
 * their input is validated.
 */
export function registerAuthentication(app: FastifyInstance, verifier: TokenVerifier): void {
  app.decorateRequest("principal", undefined);
  app.decorateRequest("servicePrincipal", undefined);
  // preValidation: an anonymous caller learns "sign in" (401) before anything about the body (400).
  app.addHook("preValidation", async (request) => {
    const header = request.headers.authorization;
    // A route declared `config: { auth: … }` refuses the wrong kind of caller before it
    // validates their input: "sign in" (401) comes before anything about the body (400).
    const needs = (request.routeOptions.config as { auth?: string } | undefined)?.auth;
    if (!header) {
      if (needs === "user" || needs === "admin") requireUser(request);
      if (needs === "service") requireService(request, []);
      return;
    }
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
    if ((needs === "user" || needs === "admin") && request.servicePrincipal) requireUser(request);
    if (needs === "service" && request.principal) requireService(request, []);
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
export function requireService(request: FastifyRequest, allowed: readonly string[]): ServicePrincipal {
  if (request.principal)
    throw unauthorized("this route takes a service token, not a user's access token", "invalid_token");
  const caller = request.servicePrincipal;
  if (!caller) throw unauthorized("send the calling service's token as 'Authorization: Bearer <token>'");
  if (!allowed.includes(caller.service))
    throw HttpProblem.of("forbidden", `the ${caller.service} service may not call this route`);
  return caller;
}
