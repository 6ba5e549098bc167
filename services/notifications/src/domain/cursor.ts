/**
 * Opaque list cursors: the position of the last item shown, base64url-encoded so clients treat
 * it as a token. A tampered cursor decodes to undefined and the caller answers 400.
 */
export function encodeCursor(position: number): string {
  return Buffer.from(JSON.stringify({ p: position }), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): number | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { p?: unknown };
    return typeof value.p === "number" && Number.isSafeInteger(value.p) && value.p > 0 ? value.p : undefined;
  } catch {
    return undefined;
  }
}
