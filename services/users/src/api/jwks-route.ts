import type { App } from "@blossom/runtime";
import type { KeyRing } from "../auth/key-ring.js";
import { ignoreBearerToken } from "./public-routes.js";
import { JwksView } from "./schemas.js";

/**
 * The public keys that verify access tokens (RFC 7517). Verifiers cache them and fetch again on
 * an unknown `kid`; the response schema lets only public members through. A bearer token sent
 * along is ignored, never verified (see `ignoreBearerToken`).
 */
export function jwksRoute(app: App, keys: KeyRing): void {
  app.get(
    "/.well-known/jwks.json",
    { config: { auth: "public" }, onRequest: ignoreBearerToken, schema: { response: { 200: JwksView } } },
    async (_request, reply) => {
      reply.header("cache-control", "public, max-age=60");
      return keys.jwks();
    },
  );
}
