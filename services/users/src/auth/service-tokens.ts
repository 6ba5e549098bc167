import { randomUUID } from "node:crypto";
import {
  isServiceCredential,
  SERVICE_SUBJECT_PREFIX,
  SERVICE_TOKEN_AUDIENCE,
  TOKEN_ALGORITHM,
  TOKEN_ISSUER,
} from "@blossom/auth";
import { SignJWT } from "jose";
import type { KeyRing } from "./key-ring.js";

export interface ServiceTokensOptions {
  keys: KeyRing;
  /** BLOSSOM_SERVICE_SECRET: what credentials are checked against. */
  secret: string;
  ttlSeconds: number;
}

export interface ServiceToken {
  accessToken: string;
  tokenType: "Bearer";
  expiresIn: number;
}

/**
 * Issues service tokens: short-lived JWTs, signed with the same keys as users' access tokens (so
 * every service verifies them with the JWKS it already has), that say which service is calling.
 * Their audience (`blossom-internal`) and subject (`service:<name>`) keep them from ever passing
 * as a user's token, and users' tokens from passing as theirs.
 */
export class ServiceTokens {
  #options: ServiceTokensOptions;

  constructor(options: ServiceTokensOptions) {
    this.#options = options;
  }

  /** A token for `service`, or undefined when `credential` is not that service's. */
  async issue(service: string, credential: string, now = new Date()): Promise<ServiceToken | undefined> {
    if (!isServiceCredential(this.#options.secret, service, credential)) return undefined;
    const signer = await this.#options.keys.signer();
    const iat = Math.floor(now.getTime() / 1000);
    const ttl = this.#options.ttlSeconds;
    const accessToken = await new SignJWT({})
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: signer.kid, typ: "JWT" })
      .setSubject(`${SERVICE_SUBJECT_PREFIX}${service}`)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(SERVICE_TOKEN_AUDIENCE)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .sign(signer.key);
    return { accessToken, tokenType: "Bearer", expiresIn: ttl };
  }
}
