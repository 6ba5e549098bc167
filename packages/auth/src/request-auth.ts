import { HttpProblem } from "@blossom/runtime";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Principal } from "./claims.js";
import { InvalidTokenError, type TokenVerifier } from "./token-verifier.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The verified caller, when the request carried a valid bearer token. */
    principal: Principal | undefined;
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
 * anonymous. Routes then say what they need with `requireUser` / `requireAdmin`, and may declare
 * `config: { auth: "user" }` so that anonymous calls are refused before their input is validated.

 */
export function registerAuthentication(app: FastifyInstance, verifier: TokenVerifier): void {
  app.decorateRequest("principal", undefined);
  // preValidation: an anonymous caller learns "sign in" (401) before anything about the body (400).
  app.addHook("preValidation", async (request) => {
    const header = request.headers.authorization;
    if (!header) {
      // A route declared `config: { auth: "user" }` refuses anonymous callers before it
      // validates their input: "sign in" (401) comes before anything about the body (400).
      const needs = (request.routeOptions.config as { auth?: string } | undefined)?.auth;
      if (needs === "user" || needs === "admin") requireUser(request);
      return;
    }
    const match = /^Bearer ([A-Za-z0-9\-_.]+)$/.exec(header);
    if (!match?.[1])
      throw unauthorized("the Authorization header must be 'Bearer <token>'", "invalid_request");
    try {
      request.principal = await verifier.verify(match[1]);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw unauthorized(error.message, "invalid_token");
      throw error;
    }
  });
}

/** The signed-in caller, or a 401 problem. */
export function requireUser(request: FastifyRequest): Principal {
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
