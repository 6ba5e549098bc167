/**
 * Reads a `Retry-After` header as a delay in milliseconds from `now`.
 *
 * Accepts both forms of RFC 9110 §10.2.3: delay-seconds (`"2"`) and an HTTP-date. Returns
 * `undefined` for a missing, repeated, negative or unparsable value, so the caller falls back
 * to its own backoff; a date in the past gives 0.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only try a date when it looks like one: Date.parse accepts far too much (e.g. "1.5").
  if (!/^[A-Za-z]{3}, /.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
