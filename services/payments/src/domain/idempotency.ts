import { createHmac, timingSafeEqual } from "node:crypto";
import type { CardInput } from "./card.js";

/**
 * The fingerprint of a payment-method request, stored with its idempotency key so that a replay
 * can be told from a different request under the same key.
 *
 * Why keyed: a card number has so few unknown digits once brand and last 4 are known that a
 * plain hash of it can be reversed by trying them all; an HMAC with a key kept outside the
 * database cannot. The cvc is left out on purpose: it is never stored in any form, not even
 * hashed, so two requests that differ only in their cvc count as the same request.
 */
export function requestFingerprint(key: string, card: CardInput): string {
  return createHmac("sha256", key)
    .update(`payment-method-request:v1|${card.cardNumber}|${card.expMonth}|${card.expYear}`)
    .digest("base64url");
}

export function sameFingerprint(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A client's Idempotency-Key: 1 to 255 visible ASCII characters. */
export function isValidIdempotencyKey(key: string): boolean {
  return /^[\x21-\x7e]{1,255}$/.test(key);
}
