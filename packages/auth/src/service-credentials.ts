import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The platform secret of development and tests. It is public (it is in the source), so
 * production refuses to start with it.
 */
export const DEVELOPMENT_SERVICE_SECRET = "blossom-development-service-secret-not-for-production";

/**
 * The credential a service presents to get a service token: HMAC-SHA256 of its name under the
 * platform secret (`BLOSSOM_SERVICE_SECRET`). It names the service: the credential of `orders`
 * gets tokens for `orders` only, and the issuer needs no list of credentials to check one.
 */
export function serviceCredential(secret: string, service: string): string {
  return createHmac("sha256", secret).update(service, "utf8").digest("base64url");
}

/** Whether `presented` is the credential of `service`, compared in constant time. */
export function isServiceCredential(secret: string, service: string, presented: string): boolean {
  const expected = Buffer.from(serviceCredential(secret, service), "utf8");
  const given = Buffer.from(presented, "utf8");
  // timingSafeEqual needs equal lengths; the length of a valid credential is no secret.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Why a platform service secret is unfit for production (empty when it is fit): unset, the
 * development secret (public in the source: anyone could mint credentials with it) or short.
 * Never quotes the value.
 */
export function serviceSecretProblems(secret: unknown): string[] {
  if (typeof secret !== "string" || secret === "" || secret === DEVELOPMENT_SERVICE_SECRET) {
    return [
      "BLOSSOM_SERVICE_SECRET is not set (the development secret is public): production needs a secret of its own, 32 characters at least",
    ];
  }
  if (secret.length < 32)
    return ["BLOSSOM_SERVICE_SECRET is under 32 characters: production needs a long random secret"];
  return [];
}
