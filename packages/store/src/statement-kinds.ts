/**
 * What a SQL statement is, for the adapters that prepare statements once and reuse them (the
 * PGlite cluster, the PostgreSQL pool): the same rules on both, so a statement is planned the
 * same way whichever database runs it.
 */

/** Statements that read or write data, and so can be prepared once and reused. */
const DATA_STATEMENT = /^\s*(select|insert|update|delete|with)\b/i;

/** Statements that may change what a prepared plan relies on (tables, types, rights). */
const SCHEMA_CHANGE = /^\s*(create|alter|drop|truncate|comment|grant|revoke|reindex|do)\b/i;

/**
 * An IN list of more than three parameters: its length follows the data (the relay's marks, the
 * order watch's look-ups), so each length would be one more prepared plan kept by the server.
 */
const LONG_IN_LIST = /\bin \(\$\d+(?:, \$\d+){3,}\)/i;

/** A data statement (see DATA_STATEMENT). */
export function isDataStatement(text: string): boolean {
  return DATA_STATEMENT.test(text);
}

/** A statement after which a plan prepared before it may no longer fit (see SCHEMA_CHANGE). */
export function isSchemaChange(text: string): boolean {
  return SCHEMA_CHANGE.test(text);
}

/** A data statement whose text does not vary with its data: worth a plan prepared once. */
export function isWorthPreparing(text: string): boolean {
  return DATA_STATEMENT.test(text) && !LONG_IN_LIST.test(text);
}

/** The statement's first word in capitals (SELECT, COMMIT), or STATEMENT: for errors and names. */
export function statementVerb(text: string): string {
  return (/^\s*(\w+)/.exec(text)?.[1] ?? "statement").toUpperCase();
}
