import { protocol } from "@electric-sql/pglite";
import { prepareValue } from "pg/lib/utils.js";

/**
 * The PostgreSQL protocol messages of one statement's trip into PGlite, for the store's hot path.
 * Parse is PGlite's own serializer (a statement is parsed once per service, then prepared);
 * Bind, sent with every statement, is written here in one buffer of the right size: PGlite's
 * serializer grows and copies a buffer per field and made Bind 4.4 % of the process's CPU
 * under checkout load. The bytes are the same as PGlite's: a format code per parameter (text,
 * or binary for a Buffer), no result format codes (all text).
 */

/** Describe (portal), Execute (all rows) and Sync: the same bytes after every Bind. */
const DESCRIBE_EXECUTE_SYNC = Buffer.concat([
  protocol.serialize.describe({ type: "P" }),
  protocol.serialize.execute({}),
  protocol.serialize.sync(),
]);

/** Parse, Bind and Execute of a statement without parameters (a role switch, a BEGIN), by text. */
const unnamedStatements = new Map<string, Buffer>();
/** Statements of that kind are few (BEGIN, and a role and search path per service); a bound anyway. */
const MAX_UNNAMED_STATEMENTS = 100;

/** The messages that run `text` without parameters and without a result description. */
export function plainStatement(text: string): Buffer {
  let messages = unnamedStatements.get(text);
  if (messages === undefined) {
    messages = Buffer.concat([
      protocol.serialize.parse({ text }),
      protocol.serialize.bind({}),
      protocol.serialize.execute({}),
    ]);
    if (unnamedStatements.size < MAX_UNNAMED_STATEMENTS) unnamedStatements.set(text, messages);
  }
  return messages;
}

/** Parse of `text` as the prepared statement `name` ("" for the unnamed one). */
export function parseMessage(name: string, text: string): Uint8Array {
  return protocol.serialize.parse({ name, text });
}

/**
 * Bind of `parameters` (encoded by `pg`'s `prepareValue`, as the PostgreSQL adapter sends them)
 * to the prepared statement `statement`, then Describe, Execute and Sync.
 */
export function bindAndRun(statement: string, parameters: readonly unknown[]): Buffer[] {
  const values = parameters.map(prepareValue);
  const count = values.length;
  // Type, length, portal "" and its NUL, the statement and its NUL, format codes, values, result formats.
  let length = 4 + 1 + Buffer.byteLength(statement) + 1 + 2 + 2 * count + 2 + 2;
  for (const value of values) {
    length += 4;
    if (value === null) continue;
    length += typeof value === "string" ? Buffer.byteLength(value) : value.byteLength;
  }
  const bind = Buffer.allocUnsafe(1 + length);
  let at = bind.writeUInt8(0x42, 0); // "B"
  at = bind.writeInt32BE(length, at);
  at = bind.writeUInt8(0, at); // the unnamed portal
  at += bind.write(statement, at, "utf8");
  at = bind.writeUInt8(0, at);
  at = bind.writeInt16BE(count, at);
  for (const value of values) at = bind.writeInt16BE(value !== null && typeof value !== "string" ? 1 : 0, at);
  at = bind.writeInt16BE(count, at);
  for (const value of values) {
    if (value === null) {
      at = bind.writeInt32BE(-1, at);
    } else if (typeof value === "string") {
      const size = Buffer.byteLength(value);
      at = bind.writeInt32BE(size, at);
      at += bind.write(value, at, "utf8");
    } else {
      at = bind.writeInt32BE(value.byteLength, at);
      at += value.copy(bind, at);
    }
  }
  bind.writeInt16BE(0, at); // no result format codes: every column as text
  return [bind, DESCRIBE_EXECUTE_SYNC];
}
