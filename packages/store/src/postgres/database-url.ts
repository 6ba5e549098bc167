/** PostgreSQL connection URLs: naming a database in them, and showing them without secrets. */

const DATABASE_NAME = /^[a-z_][a-z0-9_]*$/;
// PostgreSQL silently truncates longer identifiers, so a longer name would not round-trip.
const MAX_IDENTIFIER_LENGTH = 63;

/**
 * Throws a TypeError unless `name` is a plain lower-case identifier of at most 63 characters,
 * the only database names Blossom creates (so they never need quoting tricks).
 */
export function assertDatabaseName(name: string): void {
  if (!DATABASE_NAME.test(name) || name.length > MAX_IDENTIFIER_LENGTH) {
    throw new TypeError(
      `invalid database name ${JSON.stringify(name)}: expected ${DATABASE_NAME} and at most ${MAX_IDENTIFIER_LENGTH} characters`,
    );
  }
}

/** `url` pointing at database `name` on the same server, with the same credentials and options. */
export function withDatabaseName(url: string, name: string): string {
  assertDatabaseName(name);
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/**
 * `url` with its password (in the user info or a `password` query parameter) replaced by
 * "***", for logs. A string that is not a URL (a libpq key=value string) gets its
 * `password=...` masked instead.
 */
export function maskPassword(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, "$1***");
  }
  if (parsed.password !== "") parsed.password = "***";
  if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***");
  return parsed.toString();
}
