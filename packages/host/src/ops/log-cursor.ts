/**
 * The live-tail cursor of `GET /api/ops/logs`: for each log ring read (an instance's runnable),
 * the sequence number of the last line it had. Opaque to callers (base64url JSON), so that one
 * cursor covers however many instances the gateway reads.
 */
export type LogCursor = Record<string, number>;

export function encodeLogCursor(cursor: LogCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** A cursor that does not decode is no cursor (all lines): a tail never fails on a stale one. */
export function decodeLogCursor(text: string | undefined): LogCursor {
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
    return Object.fromEntries(
      Object.entries(value).filter(
        (entry): entry is [string, number] => Number.isSafeInteger(entry[1]) && entry[1] >= 0,
      ),
    );
  } catch {
    return {};
  }
}
