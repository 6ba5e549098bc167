// `pg` publishes lib/* (package.json "exports") but @types/pg does not describe lib/utils.
declare module "pg/lib/utils.js" {
  /** How `pg` encodes a query parameter: text (or a Buffer for bytea), null for null/undefined. */
  export function prepareValue(value: unknown): string | Buffer | null;
}
