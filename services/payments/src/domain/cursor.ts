/**
 * Opaque list cursors: the sort key of the last item (creation time and id), base64url-encoded
 * so clients treat it as a token. A tampered cursor decodes to undefined and the caller answers 400.
 */
export interface CursorKey {
  createdAt: Date;
  id: string;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify({ t: key.createdAt.toISOString(), i: key.id }), "utf8").toString(
    "base64url",
  );
}

export function decodeCursor(cursor: string): CursorKey | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      t?: unknown;
      i?: unknown;
    };
    if (typeof value.t !== "string" || typeof value.i !== "string") return undefined;
    const createdAt = new Date(value.t);
    return Number.isNaN(createdAt.getTime()) ? undefined : { createdAt, id: value.i };
  } catch {
    return undefined;
  }
}
