import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify } from "jose";
import { type Principal, TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER } from "./claims.js";

/** Why a token was refused; the message is safe to show the client. */
export class InvalidTokenError extends Error {
  readonly code = "INVALID_TOKEN";
  constructor(message: string) {
    super(message);
    this.name = "InvalidTokenError";
  }
}

export interface TokenVerifierOptions {
  /** Fetches the current key set (the users service's `/.well-known/jwks.json`). */
  fetchKeys: () => Promise<JSONWebKeySet>;
  /** Shortest time between two fetches caused by unknown key ids (a flood of forged kids). Default 30 s. */
  refreshCooldownMs?: number;
  /** Allowed clock difference between issuer and verifier. Default 30 s. */
  clockToleranceSeconds?: number;
}

/**
 * Verifies access tokens against the users service's public keys, cached in memory and fetched
 * again when a token names a key id the cache does not know (keys rotate with no restart).
 * Accepts only EdDSA signatures from the Blossom issuer for the Blossom audience: `alg: none`,
 * another algorithm, another key, an expired or malformed token all fail with InvalidTokenError.
 */
export class TokenVerifier {
  #options: Required<TokenVerifierOptions>;
  #keys: ReturnType<typeof createLocalJWKSet> | undefined;
  #loading: Promise<void> | undefined;
  #lastFetch = 0;

  constructor(options: TokenVerifierOptions) {
    this.#options = { refreshCooldownMs: 30_000, clockToleranceSeconds: 30, ...options };
  }

  async verify(token: string): Promise<Principal> {
    if (!this.#keys) await this.#refresh(true);
    try {
      return await this.#verifyWithCache(token);
    } catch (error) {
      // An unknown key id may be a key that rotated in since the last fetch.
      if (error instanceof errors.JWKSNoMatchingKey && (await this.#refresh(false))) {
        try {
          return await this.#verifyWithCache(token);
        } catch (retry) {
          throw toInvalidToken(retry);
        }
      }
      throw toInvalidToken(error);
    }
  }

  async #verifyWithCache(token: string): Promise<Principal> {
    const keys = this.#keys;
    if (!keys) throw new InvalidTokenError("signing keys are not available");
    const { payload } = await jwtVerify(token, keys, {
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      algorithms: [TOKEN_ALGORITHM],
      clockTolerance: this.#options.clockToleranceSeconds,
      requiredClaims: ["sub", "exp", "iat"],
    });
    const role = payload.role;
    if (typeof payload.sub !== "string" || (role !== "customer" && role !== "admin")) {
      throw new InvalidTokenError("the token does not name a user and a role");
    }
    return {
      userId: payload.sub,
      role,
      ...(typeof payload.email === "string" ? { email: payload.email } : {}),
    };
  }

  /** Fetches the key set; returns false when the cooldown forbids it. */
  async #refresh(force: boolean): Promise<boolean> {
    if (!force && Date.now() - this.#lastFetch < this.#options.refreshCooldownMs) return false;
    this.#loading ??= (async () => {
      try {
        this.#keys = createLocalJWKSet(await this.#options.fetchKeys());
        this.#lastFetch = Date.now();
      } finally {
        this.#loading = undefined;
      }
    })();
    await this.#loading;
    return true;
  }
}

function toInvalidToken(error: unknown): InvalidTokenError {
  if (error instanceof InvalidTokenError) return error;
  if (error instanceof errors.JWTExpired) return new InvalidTokenError("the token has expired");
  if (error instanceof errors.JWKSNoMatchingKey)
    return new InvalidTokenError("the token was not signed by a known key");
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new InvalidTokenError("the token's signature is not valid");
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new InvalidTokenError("the token's algorithm is not allowed");
  if (error instanceof errors.JWTClaimValidationFailed)
    return new InvalidTokenError(`the token's ${error.claim} claim is not valid`);
  return new InvalidTokenError("the token is malformed");
}
