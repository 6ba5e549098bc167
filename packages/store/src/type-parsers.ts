/**
 * Result parsing shared by both adapters, so the same query returns the same JavaScript values
 * on PostgreSQL (`pg`) and on PGlite. Left alone, the drivers disagree: `pg` returns `bigint`
 * columns (and `count(*)`) as strings while PGlite returns numbers (or a JS `bigint` past 2^53);
 * `pg` turns a `date` into a Date at local midnight while PGlite uses UTC midnight.
 */

/** PostgreSQL type OIDs whose parsing is overridden (their array types follow the element). */
export const PG_OID = { int8: 20, date: 1082, int8Array: 1016, dateArray: 1182, textArray: 1009 } as const;

/**
 * `bigint` (int8) as a JavaScript number: amounts in minor units and counts fit comfortably.
 * Fails the query with a RangeError rather than silently losing precision beyond 2^53 - 1;
 * select such a column as text if it can really grow that large.
 */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(
      `bigint value ${text} is outside JavaScript's safe integer range; select it as text`,
    );
  }
  return value;
}

/** `date` as its ISO text ("2024-02-29"): a calendar day has no time zone to get wrong. */
export function parseDate(text: string): string {
  return text;
}
