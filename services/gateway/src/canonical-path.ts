/**
 * One path, one meaning. Every decision the gateway makes about a request (public or not, which
 * rate-limit bucket, which service) and the route the service behind it matches must be taken on
 * the same path. Parsers disagree about percent-encoding, dot segments and doubled slashes (the
 * users service's router decoded `/api/auth/%6cogin` to the login route while the gateway's
 * limiter saw another path), so the gateway brings every request path to one canonical form
 * before anything else looks at it, and refuses the forms that different parsers read
 * differently. Only the canonical path is forwarded.
 *
 * Canonical form (RFC 3986 §6.2.2, plus refusals):
 * - a percent-encoded unreserved character (`A-Z a-z 0-9 - . _ ~`) is decoded (`%6c` → `l`);
 * - every other percent-encoding is kept, with upper-case hex digits (`%c3%a9` → `%C3%A9`);
 * - refused (400): a path that does not start with `/`; a malformed `%`; an encoded `/`, `\`,
 *   `%` followed by a control character; a literal character outside RFC 3986's `pchar`
 *   (backslash, space, quotes, `<>^`{|}`, non-ASCII); a `.` or `..` segment (plain or encoded);
 *   an empty segment (`//`); a trailing slash (a route never ends in one, except the docs
 *   page's own `/docs/`).
 * - the case of letters is kept: paths are case-sensitive for the gateway and the services alike.
 * The query string is not touched: no routing decision is taken on it.
 */
export type CanonicalPath = { ok: true; url: string; path: string } | { ok: false; reason: string };

// RFC 3986 unreserved: decoded wherever they appear.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
// RFC 3986 pchar minus percent (handled apart) plus "/" between segments.
const LITERAL_PATH_CHARACTER = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]$/;
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

/** Paths whose trailing slash is the resource's own (swagger-ui's page and assets). */
const TRAILING_SLASH_ALLOWED = new Set(["/", "/docs/"]);

export function canonicalPath(url: string): CanonicalPath {
  const queryAt = url.indexOf("?");
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? "" : url.slice(queryAt);
  if (!rawPath.startsWith("/"))
    return { ok: false, reason: "the request target must be a path starting with '/'" };

  let path = "";
  for (let index = 0; index < rawPath.length; index++) {
    const character = rawPath[index] as string;
    if (character === "%") {
      const hex = rawPath.slice(index + 1, index + 3);
      if (!HEX_PAIR.test(hex)) return { ok: false, reason: "the path has a malformed percent-encoding" };
      const code = Number.parseInt(hex, 16);
      const decoded = String.fromCharCode(code);
      if (decoded === "/" || decoded === "\\")
        return { ok: false, reason: "the path has an encoded slash or backslash" };
      if (code < 0x20 || code === 0x7f)
        return { ok: false, reason: "the path has an encoded control character" };
      path += UNRESERVED.test(decoded) ? decoded : `%${hex.toUpperCase()}`;
      index += 2;
      continue;
    }
    if (!LITERAL_PATH_CHARACTER.test(character))
      return {
        ok: false,
        reason: `the path has a character that must be percent-encoded (${JSON.stringify(character)})`,
      };
    path += character;
  }

  const segments = path.split("/").slice(1);
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index];
    if (segment === "." || segment === "..") return { ok: false, reason: "the path has a dot segment" };
    const last = index === segments.length - 1;
    if (segment === "" && !last) return { ok: false, reason: "the path has an empty segment ('//')" };
    if (segment === "" && last && !TRAILING_SLASH_ALLOWED.has(path))
      return { ok: false, reason: "the path ends with a slash" };
  }
  return { ok: true, path, url: path + query };
}
