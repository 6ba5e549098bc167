/** A private Ed25519 key as a JWK (RFC 8037): what `USERS_SIGNING_KEY` holds. */
export interface Ed25519PrivateJwk {
  kty: "OKP";
  crv: "Ed25519";
  /** Public key, base64url (32 bytes). */
  x: string;
  /** Private key, base64url (32 bytes). */
  d: string;
  kid?: string;
}

/** The public half, as published in the JWKS. */
export interface Ed25519PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
}

const KEY_32_BYTES = /^[A-Za-z0-9_-]{43}$/;
const KID = /^[A-Za-z0-9._:-]{1,128}$/;

export type ParsedSigningKey = { ok: true; jwk: Ed25519PrivateJwk } | { ok: false; problem: string };

/**
 * Checks the shape of a configured signing key. Problems never quote the value: it is a secret.
 */
export function parseSigningKey(text: string): ParsedSigningKey {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: "is not JSON (expected a private Ed25519 JWK)" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, problem: "is not a JSON object (expected a private Ed25519 JWK)" };
  const jwk = value as Record<string, unknown>;
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519")
    return { ok: false, problem: 'is not an Ed25519 key (expected "kty": "OKP", "crv": "Ed25519")' };
  if (typeof jwk.d !== "string" || !KEY_32_BYTES.test(jwk.d))
    return { ok: false, problem: 'has no private part ("d": 32 bytes, base64url)' };
  if (typeof jwk.x !== "string" || !KEY_32_BYTES.test(jwk.x))
    return { ok: false, problem: 'has no public part ("x": 32 bytes, base64url)' };
  if (jwk.kid !== undefined && (typeof jwk.kid !== "string" || !KID.test(jwk.kid)))
    return { ok: false, problem: 'has a "kid" that is not 1 to 128 letters, digits or ._:-' };
  return {
    ok: true,
    jwk: {
      kty: "OKP",
      crv: "Ed25519",
      x: jwk.x,
      d: jwk.d,
      ...(typeof jwk.kid === "string" ? { kid: jwk.kid } : {}),
    },
  };
}

export function publicPart(jwk: Ed25519PublicJwk): Ed25519PublicJwk {
  return { kty: "OKP", crv: "Ed25519", x: jwk.x };
}
