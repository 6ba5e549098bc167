/** The outcome of decoding an answer's body. */
export type DecodedBody = { ok: true; value: unknown } | { ok: false; text: string; error: Error };

/** True for `application/json`, `application/problem+json` and any other `+json` media type. */
export function isJsonContentType(contentType: string | string[] | undefined): boolean {
  if (typeof contentType !== "string") return false;
  const mediaType = contentType.split(";", 1)[0]?.trim().toLowerCase() ?? "";
  return (
    mediaType === "application/json" || (mediaType.startsWith("application/") && mediaType.endsWith("+json"))
  );
}

/**
 * Decodes a body read as text: parsed JSON when the content type is JSON, the text otherwise,
 * `undefined` when empty. Never throws: invalid JSON comes back as `ok: false` with the raw
 * text, so the caller decides whether that is fatal (a 2xx) or just a worse error body.
 */
export function decodeBody(text: string, contentType: string | string[] | undefined): DecodedBody {
  if (text === "") return { ok: true, value: undefined };
  if (!isJsonContentType(contentType)) return { ok: true, value: text };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, text, error: error instanceof Error ? error : new Error(String(error)) };
  }
}
