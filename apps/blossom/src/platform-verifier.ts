import { randomUUID } from "node:crypto";
import { TokenVerifier } from "@blossom/auth";
import type { ServiceClients } from "@blossom/host";
import { runWithContext } from "@blossom/runtime";
import type { JSONWebKeySet } from "jose";

/** A verifier of bearer tokens against the users service's published keys (JWKS). */
export function platformTokenVerifier(clients: ServiceClients): TokenVerifier {
  return new TokenVerifier({
    // Outside any request's context: the key fetch must not carry the caller's token (which
    // the users service would try to verify with the very keys being fetched).
    fetchKeys: () =>
      runWithContext({ requestId: randomUUID(), correlationId: randomUUID() }, () =>
        clients.get("users").getJson<JSONWebKeySet>("/.well-known/jwks.json"),
      ),
  });
}
