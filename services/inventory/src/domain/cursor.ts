/**
 * Opaque list cursors: the sort key of the last item, base64url-encoded so clients treat it as
 * a token. A tampered cursor decodes to undefined and the caller answers 400.
 */
export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ k: key }), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): string | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { k?: unknown };
    return typeof value.k === "string" ? value.k : undefined;
  } catch {
    return undefined;
  }
}
