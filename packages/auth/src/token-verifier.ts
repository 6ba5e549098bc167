import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTPayload, jwtVerify } from "jose";
import {
  type Identity,
  type Principal,
  SERVICE_NAME_PATTERN,
  SERVICE_SUBJECT_PREFIX,
  SERVICE_TOKEN_AUDIENCE,
  type ServicePrincipal,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
} from "./claims.js";

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
 * Verifies tokens against the users service's public keys, cached in memory and fetched again
 * when a token names a key id the cache does not know (keys rotate with no restart). Accepts
 * only EdDSA signatures from the Blossom issuer: `alg: none`, another algorithm, another key, an
 * expired or malformed token all fail with InvalidTokenError.
 *
 * Two kinds of token share the keys and are told apart by their audience: users' access tokens
 * (`aud: "blossom"`, `verify`) and service tokens (`aud: "blossom-internal"`, `verifyService`).
 * Each method accepts only its own kind; `identify` accepts either and says which it was.
 */
export class TokenVerifier {
  #options: Required<TokenVerifierOptions>;
  #keys: ReturnType<typeof createLocalJWKSet> | undefined;
  #loading: Promise<void> | undefined;
  #lastFetch = 0;
  /** Tokens that verified, until they expire (see `identify`). */
  readonly #verified = new Map<string, { identity: Identity; expiresAtMs: number }>();

  constructor(options: TokenVerifierOptions) {
    this.#options = { refreshCooldownMs: 30_000, clockToleranceSeconds: 30, ...options };
  }

  /** A user's access token: the user, or InvalidTokenError (a service token included). */
  async verify(token: string): Promise<Principal> {
    const identity = await this.identify(token);
    if (identity.kind !== "user") throw new InvalidTokenError("a service token does not sign a user in");
    return identity.user;
  }

  /** A service token: the calling service, or InvalidTokenError (a user's token included). */
  async verifyService(token: string): Promise<ServicePrincipal> {
    const identity = await this.identify(token);
    if (identity.kind !== "service")
      throw new InvalidTokenError("a user's access token is not a service token");
    return identity.service;
  }

  /**
   * A user's access token or a service token, and which of the two it is.
   *
   * Checking the Ed25519 signature costed a service about 200 µs of CPU per authenticated
   * request (as much as the rest of a product read: bench/gateway.ts, `--store postgres`), and a
   * client sends the same token until it expires. A token that verified is remembered, by its
   * exact text, until its `exp` and no longer: every answer is the one verifying would give.
   * (A key withdrawn from the JWKS stops a token already seen only when it expires, at most an
   * access token's lifetime; any token not seen before is checked against the keys as they are.)
   */
  async identify(token: string): Promise<Identity> {
    const known = this.#verified.get(token);
    if (known && known.expiresAtMs > Date.now()) return known.identity;
    this.#verified.delete(token);
    const { identity, expiresAtMs } = await this.check(token);
    if (expiresAtMs > Date.now()) {
      // Oldest first: a Map iterates in insertion order.
      if (this.#verified.size >= VERIFIED_TOKENS_MAX)
        this.#verified.delete(this.#verified.keys().next().value ?? "");
      this.#verified.set(token, { identity, expiresAtMs });
    }
    return identity;
  }

  /** Verifies a token against the keys, every time (`identify` remembers the answer); with its expiry. */
  async check(token: string): Promise<{ identity: Identity; expiresAtMs: number }> {
    const payload = await this.#verifySignature(token);
    return { identity: classify(payload), expiresAtMs: (payload.exp ?? 0) * 1000 };
  }

  async #verifySignature(token: string): Promise<JWTPayload> {
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

  async #verifyWithCache(token: string): Promise<JWTPayload> {
    const keys = this.#keys;
    if (!keys) throw new InvalidTokenError("signing keys are not available");
    const { payload } = await jwtVerify(token, keys, {
      issuer: TOKEN_ISSUER,
      // Either audience passes here; `classify` then insists on exactly one of them.
      audience: [TOKEN_AUDIENCE, SERVICE_TOKEN_AUDIENCE],
      algorithms: [TOKEN_ALGORITHM],
      clockTolerance: this.#options.clockToleranceSeconds,
      requiredClaims: ["sub", "exp", "iat"],
    });
    // jose checks `iat` in the future only together with a maximum token age. A token issued
    // "later" than now is forged or from a clock that cannot be trusted with `exp` either.
    const nowSeconds = Date.now() / 1000;
    if ((payload.iat ?? 0) > nowSeconds + this.#options.clockToleranceSeconds)
      throw new InvalidTokenError("the token's iat claim is in the future");
    return payload;
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

const serviceName = new RegExp(SERVICE_NAME_PATTERN);

/** Verified tokens remembered at most, per verifier (about 2 MB). */
const VERIFIED_TOKENS_MAX = 10_000;

/**
 * Tells a user's token from a service's by its audience, and refuses anything ambiguous: both
 * audiences at once, a service audience without a `service:<name>` subject, a user audience
 * with one (or without a role).
 */
function classify(payload: JWTPayload): Identity {
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const forUsers = audiences.includes(TOKEN_AUDIENCE);
  const forServices = audiences.includes(SERVICE_TOKEN_AUDIENCE);
  const sub = payload.sub;
  if (typeof sub !== "string" || forUsers === forServices)
    throw new InvalidTokenError("the token's aud claim is not valid");
  if (forServices) {
    const name = sub.startsWith(SERVICE_SUBJECT_PREFIX) ? sub.slice(SERVICE_SUBJECT_PREFIX.length) : "";
    if (!serviceName.test(name) || payload.role !== undefined)
      throw new InvalidTokenError("the token does not name a service");
    return { kind: "service", service: { service: name } };
  }
  const role = payload.role;
  if (sub.startsWith(SERVICE_SUBJECT_PREFIX) || (role !== "customer" && role !== "admin")) {
    throw new InvalidTokenError("the token does not name a user and a role");
  }
  return {
    kind: "user",
    user: { userId: sub, role, ...(typeof payload.email === "string" ? { email: payload.email } : {}) },
  };
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
