import { messages, protocol } from "@electric-sql/pglite";
import type { BackendMessage } from "./pglite-engine.js";

/**
 * A faster parse of PostgreSQL's replies for PGlite, installed in place of its own
 * (`protocol.Parser.prototype.parse`, which PGlite calls on every chunk PostgreSQL writes,
 * whichever method runs the statement).
 *
 * Why: PGlite's parser copies every chunk and every text field into a new buffer before
 * decoding it, through a reader whose fields are private class fields compiled to WeakMap
 * look-ups. Under the embedded checkout that was 7.2 % of the main thread (CPU profile of
 * `npm run bench -- checkout`), more than any part of Blossom's own code. This one reads the
 * chunk where it is and decodes each text field straight from it.
 *
 * What it parses itself are the messages every statement's reply is made of: DataRow,
 * RowDescription, CommandComplete, ReadyForQuery and the bodiless ones (ParseComplete,
 * BindComplete, NoData, ...). It builds them with PGlite's own message classes and fields, so
 * PGlite and the store see what they saw before (reply-parser.test.ts compares the two parsers
 * message by message). Any other message (errors, notices, notifications, authentication,
 * copy) is handed, whole, to PGlite's own parser.
 */
export function installReplyParser(): void {
  const prototype = protocol.Parser.prototype as ParserPrototype;
  if (prototype[INSTALLED]) return;
  prototype[INSTALLED] = true;
  prototype.parse = parseReply;
}

/** PGlite's own parse, for the messages this one hands over (and for the tests). */
export const pgliteParse: ParseMethod = protocol.Parser.prototype.parse as ParseMethod;

type Parser = InstanceType<typeof protocol.Parser>;
type ParseMethod = (
  this: Parser,
  chunk: ArrayBuffer | ArrayBufferView,
  emit: (message: BackendMessage) => void,
) => void;
type ParserPrototype = { parse: ParseMethod; [INSTALLED]?: true };

const INSTALLED = Symbol("blossom.replyParser");

/** What a parser instance keeps between chunks: the start of a message cut off by the chunk's end. */
interface ReplyState {
  pending: Buffer | undefined;
  /** PGlite's parser, for the messages handed over (its own state: each gets a whole message). */
  fallback: Parser | undefined;
}

const states = new WeakMap<Parser, ReplyState>();

/** The code and length prefix of every message. */
const HEADER_BYTES = 5;

/**
 * Parses the messages of `chunk` (a view of PGlite's WebAssembly memory, valid only during this
 * call) and hands each to `emit`, in order; an incomplete last message waits for the next chunk.
 */
function parseReply(
  this: Parser,
  chunk: ArrayBuffer | ArrayBufferView,
  emit: (message: BackendMessage) => void,
): void {
  let state = states.get(this);
  if (state === undefined) {
    state = { pending: undefined, fallback: undefined };
    states.set(this, state);
  }
  let bytes = ArrayBuffer.isView(chunk)
    ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    : Buffer.from(chunk);
  if (state.pending !== undefined) {
    bytes = Buffer.concat([state.pending, bytes]);
    state.pending = undefined;
  }
  const end = bytes.length;
  let offset = 0;
  while (offset + HEADER_BYTES <= end) {
    const code = bytes[offset] as number;
    // The length counts itself, not the code: a message is 1 + length bytes.
    const length = bytes.readUInt32BE(offset + 1);
    if (length === 0 || offset + 1 + length > end) break;
    emit(parseMessage(this, state, bytes, offset, code, length));
    offset += 1 + length;
  }
  // Kept as a copy: the chunk is PGlite's memory, reused once this call returns.
  if (offset < end) state.pending = Buffer.from(bytes.subarray(offset));
}

function parseMessage(
  parser: Parser,
  state: ReplyState,
  bytes: Buffer,
  offset: number,
  code: number,
  length: number,
): BackendMessage {
  const body = offset + HEADER_BYTES;
  switch (code) {
    case 0x44: // 'D' DataRow
      return dataRow(bytes, body, length);
    case 0x43: // 'C' CommandComplete
      return new messages.CommandCompleteMessage(length, cstring(bytes, body));
    case 0x5a: // 'Z' ReadyForQuery
      return new messages.ReadyForQueryMessage(length, bytes.toString("utf8", body, body + 1));
    case 0x54: // 'T' RowDescription
      return rowDescription(bytes, body, length);
    case 0x31: // '1'
      return messages.parseComplete;
    case 0x32: // '2'
      return messages.bindComplete;
    case 0x33: // '3'
      return messages.closeComplete;
    case 0x6e: // 'n'
      return messages.noData;
    case 0x73: // 's'
      return messages.portalSuspended;
    case 0x63: // 'c'
      return messages.copyDone;
    case 0x57: // 'W'
      return messages.replicationStart;
    case 0x49: // 'I'
      return messages.emptyQuery;
    default:
      return handOver(parser, state, bytes.subarray(offset, offset + 1 + length));
  }
}

/** A whole message parsed by PGlite's own parser (errors, notices and the rare ones). */
function handOver(parser: Parser, state: ReplyState, message: Buffer): BackendMessage {
  state.fallback ??= new (parser.constructor as new () => Parser)();
  let parsed: BackendMessage | undefined;
  pgliteParse.call(state.fallback, message, (result) => {
    parsed = result;
  });
  if (parsed === undefined) throw new Error(`PGlite's parser returned nothing for message ${message[0]}`);
  return parsed;
}

function dataRow(bytes: Buffer, body: number, length: number): BackendMessage {
  const count = bytes.readInt16BE(body);
  const fields = new Array<string | null>(count);
  let at = body + 2;
  for (let index = 0; index < count; index++) {
    const size = bytes.readInt32BE(at);
    at += 4;
    if (size === -1) fields[index] = null;
    else {
      fields[index] = bytes.toString("utf8", at, at + size);
      at += size;
    }
  }
  return new messages.DataRowMessage(length, fields);
}

function rowDescription(bytes: Buffer, body: number, length: number): BackendMessage {
  const count = bytes.readInt16BE(body);
  const message = new messages.RowDescriptionMessage(length, count);
  let at = body + 2;
  for (let index = 0; index < count; index++) {
    const nameEnd = bytes.indexOf(0, at);
    const name = bytes.toString("utf8", at, nameEnd);
    at = nameEnd + 1;
    message.fields[index] = new messages.Field(
      name,
      bytes.readInt32BE(at),
      bytes.readInt16BE(at + 4),
      bytes.readInt32BE(at + 6),
      bytes.readInt16BE(at + 10),
      bytes.readInt32BE(at + 12),
      // PGlite's own `Mode`: 0 text, 1 binary.
      bytes.readInt16BE(at + 16) === 0 ? 0 : 1,
    );
    at += 18;
  }
  return message;
}

/** The zero-terminated string at `at`. */
function cstring(bytes: Buffer, at: number): string {
  return bytes.toString("utf8", at, bytes.indexOf(0, at));
}
