/**
 * The URL as an access log may keep it: the path, and the query's parameter names with their
 * values replaced. A query can carry a credential (`?access_token=<JWT>`, a reset code) or
 * personal data (a search for a name), and logs travel further and live longer than requests.
 * Parameters named in `kept` (bounded, harmless values such as page sizes) keep their value.
 */
export function logSafeUrl(url: string, kept: ReadonlySet<string> = KEPT_QUERY_PARAMETERS): string {
  const queryAt = url.indexOf("?");
  if (queryAt === -1) return url;
  const parts = url
    .slice(queryAt + 1)
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      const name = equals === -1 ? pair : pair.slice(0, equals);
      if (equals === -1 || kept.has(name)) return pair;
      return `${name}=[redacted]`;
    });
  return `${url.slice(0, queryAt)}?${parts.join("&")}`;
}

/** Query parameters whose values say how a list was asked for, never who or what for. */
export const KEPT_QUERY_PARAMETERS: ReadonlySet<string> = new Set(["limit", "status", "category"]);
