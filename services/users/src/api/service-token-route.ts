import type { App } from "@blossom/runtime";
import { SERVICE_TOKEN_PATH } from "@blossom/users-contracts";
import type { ServiceTokens } from "../auth/service-tokens.js";
import { invalidServiceCredential } from "./problems.js";
import { ignoreBearerToken } from "./public-routes.js";
import { ServiceTokenBody, ServiceTokenView } from "./schemas.js";

/**
 * `POST /internal/auth/service-token` `{service, credential}`: a service token for the calling
 * service (OAuth2 client credentials, in JSON). Internal: not under `/api`, so the gateway never
 * routes it; only services reach it, directly. The body is the credential: a bearer token sent
 * along is ignored. Tokens are never cached (RFC 6749 §5.1).
 */
export function serviceTokenRoute(app: App, tokens: ServiceTokens): void {
  app.post(
    SERVICE_TOKEN_PATH,
    {
      // No token: the body's credential is what a service presents to get one (checked by
      // `tokens.issue`). Never routed by the gateway (`/internal`).
      config: { auth: "public" },
      onRequest: ignoreBearerToken,
      schema: { body: ServiceTokenBody, response: { 200: ServiceTokenView } },
    },
    async (request, reply) => {
      const token = await tokens.issue(request.body.service, request.body.credential);
      if (!token) {
        // `caller`, not `service`: every log line's `service` is the one that writes it.
        request.log.warn({ caller: request.body.service }, "service token refused: wrong credential");
        throw invalidServiceCredential();
      }
      reply.header("cache-control", "no-store");
      return token;
    },
  );
}
