/** The roles an account can have; every sign-up is a customer, admins are made by the seed or an operator. */
export type Role = "customer" | "admin";

/** What an access token says about its user. */
export interface TokenSubject {
  id: string;
  email: string;
  role: Role;
}

/** The claims of an access token that depend on the user and the clock (issuer and audience are fixed). */
export interface AccessClaims {
  sub: string;
  role: Role;
  email: string;
  iat: number;
  exp: number;
}

/** How much clock difference the platform's verifiers accept (`TokenVerifier` allows 30 s). */
export const VERIFIER_CLOCK_TOLERANCE_SECONDS = 30;

export function accessClaims(user: TokenSubject, now: Date, ttlSeconds: number): AccessClaims {
  const iat = Math.floor(now.getTime() / 1000);
  return { sub: user.id, role: user.role, email: user.email, iat, exp: iat + ttlSeconds };
}

/** A signing key as far as publication is concerned. */
export interface KeyLifetime {
  createdAt: Date;
  retiredAt: Date | null;
}

/**
 * How long a retired key stays in the JWKS: as long as a token it signed just before retiring
 * can still be accepted (its lifetime plus the verifiers' clock tolerance), with a minute to spare.
 */
export function retiredKeyGraceSeconds(accessTtlSeconds: number): number {
  return accessTtlSeconds + VERIFIER_CLOCK_TOLERANCE_SECONDS + 60;
}

/** Whether a key belongs in the published key set at `now`. */
export function isPublished(key: KeyLifetime, now: Date, accessTtlSeconds: number): boolean {
  if (!key.retiredAt) return true;
  return now.getTime() - key.retiredAt.getTime() < retiredKeyGraceSeconds(accessTtlSeconds) * 1000;
}

/** The key that signs new tokens: the newest one not retired (undefined when every key is retired). */
export function currentKey<K extends KeyLifetime>(keys: readonly K[]): K | undefined {
  let current: K | undefined;
  for (const key of keys) {
    if (key.retiredAt) continue;
    if (!current || key.createdAt.getTime() > current.createdAt.getTime()) current = key;
  }
  return current;
}
