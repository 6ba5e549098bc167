import {
  type Principal,
  SERVICE_SUBJECT_PREFIX,
  SERVICE_TOKEN_AUDIENCE,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TokenVerifier,
} from "@blossom/auth";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/** The claims of a test token; each defaults to what the users service would sign. */
export interface TokenClaims {
  sub: string;
  /** Left out of the token when not given. */
  role?: string;
  iss?: string;
  aud?: string;
  /** Seconds since the epoch (default: now). */
  iat?: number;
  /** Seconds since the epoch, or a span such as "10m" (default: 10 minutes). */
  exp?: number | string;
}

/**
 * A fresh Ed25519 key a test signs tokens with, the verifier that trusts it, and its JWKs (the
 * private one is what USERS_SIGNING_KEY holds, so a platform under test signs with it too).
 */
export interface TestSigningKey {
  kid: string;
  privateKey: CryptoKey;
  /** The public JWK with kid, alg and use: what the users service's JWKS serves. */
  publicJwk: JWK;
  /** The private JWK (with `d`) and kid. */
  privateJwk: JWK;
  verifier: TokenVerifier;
  /** A token with exactly these claims (signed with this key, `kid` in its header). */
  sign(claims: TokenClaims, kid?: string): Promise<string>;
  /** A user's access token; `expiresIn` e.g. "15m", or its expiry in seconds since the epoch. */
  token(principal: Partial<Principal> & { userId: string }, expiresIn?: string | number): Promise<string>;
  /** A service's token for internal calls (audience blossom-internal, subject `service:<name>`). */
  serviceToken(service: string, expiresIn?: string | number): Promise<string>;
}

export async function testSigningKey(kid = "test-key"): Promise<TestSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALGORITHM, use: "sig" };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid };
  const sign = (claims: TokenClaims, headerKid = kid) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims.role === undefined ? {} : { role: claims.role })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: headerKid, typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(claims.iss ?? TOKEN_ISSUER)
      .setAudience(claims.aud ?? TOKEN_AUDIENCE)
      .setIssuedAt(claims.iat ?? now)
      .setExpirationTime(claims.exp ?? now + 600)
      .sign(privateKey);
  };
  return {
    kid,
    privateKey,
    publicJwk,
    privateJwk,
    verifier: new TokenVerifier({ fetchKeys: async () => ({ keys: [publicJwk] }) }),
    sign,
    token(principal, expiresIn = "15m") {
      const now = Math.floor(Date.now() / 1000);
      return sign({
        sub: principal.userId,
        role: principal.role ?? "customer",
        // An expiry in the past needs an issue time before it.
        iat: typeof expiresIn === "number" ? Math.min(now, expiresIn - 60) : now,
        exp: expiresIn,
      });
    },
    serviceToken(service, expiresIn = "5m") {
      return sign({
        sub: `${SERVICE_SUBJECT_PREFIX}${service}`,
        aud: SERVICE_TOKEN_AUDIENCE,
        exp: expiresIn,
      });
    },
  };
}
