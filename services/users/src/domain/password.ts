import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

/**
 * The scrypt cost of new hashes, as log2 of N, in production (and by default): N=2^15, r=8 uses
 * 32 MiB per hash, which makes GPU guessing expensive. Tests may hash cheaper
 * (`USERS_PASSWORD_HASH_COST`, refused below this in production): a hash names its own cost, so
 * verification works whatever the cost it was made with.
 */
export const PASSWORD_HASH_COST = 15;
const R = 8;
const P = 1;
// Room for N up to 2^15 with r=8 (128·N·r = 32 MiB), the most a stored hash may ask for.
const MAX_MEMORY = 64 * 1024 * 1024;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, params: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, params, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Hashes a password into a self-describing string: `scrypt$N$r$p$salt$hash` (base64url), with
 * N = 2^`cost` (`PASSWORD_HASH_COST` unless the settings lower it for tests).
 */
export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** cost;
  const key = await derive(password, salt, { N, r: R, p: P, maxmem: MAX_MEMORY });
  return ["scrypt", N, R, P, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Checks a password against a stored hash in constant time; false for any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(password, Buffer.from(salt, "base64url"), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEMORY,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
