/**
 * The `wait` preference of an HTTP `Prefer` header (RFC 7240 §4.3): how many seconds the client
 * is willing to wait for a fuller answer. Returns undefined when there is none, or when it is not
 * a non-negative integer: an unknown or malformed preference is ignored, as the RFC asks, never
 * an error. Several `Prefer` headers, or several preferences in one, are all looked at; the
 * first `wait` wins.
 */
export function preferredWaitSeconds(header: string | readonly string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const values = typeof header === "string" ? [header] : header;
  for (const value of values) {
    for (const preference of value.split(",")) {
      // A preference is `token [= value] *( ";" parameter )`; parameters do not matter for `wait`.
      const [head = ""] = preference.split(";");
      const separator = head.indexOf("=");
      if (separator < 0 || head.slice(0, separator).trim().toLowerCase() !== "wait") continue;
      const raw = head
        .slice(separator + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1");
      if (!/^\d{1,9}$/.test(raw)) return undefined;
      return Number(raw);
    }
  }
  return undefined;
}
