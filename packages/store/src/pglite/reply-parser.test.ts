import { PGlite, protocol } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackendMessage } from "./pglite-engine.js";
import { installReplyParser, pgliteParse } from "./reply-parser.js";

/** Every message of `chunks`, parsed by a new parser with `parse` (PGlite's or ours). */
function parseAll(parse: typeof pgliteParse, chunks: readonly Uint8Array[]): BackendMessage[] {
  const parser = new protocol.Parser();
  const parsed: BackendMessage[] = [];
  for (const chunk of chunks) parse.call(parser, chunk, (message) => parsed.push(message));
  return parsed;
}

/** Messages as comparable values: their class, then every field. */
function described(parsed: readonly BackendMessage[]): unknown[] {
  return parsed.map((message) => ({ class: message.constructor.name, ...message }));
}

const { serialize } = protocol;

// Our parse must give PGlite (and the store) exactly what PGlite's own gave, message by message.
describe("reply parser", () => {
  let pglite: PGlite;
  const replies: Array<{ what: string; bytes: Uint8Array }> = [];
  const ours = (chunks: readonly Uint8Array[]) => {
    installReplyParser();
    return parseAll(protocol.Parser.prototype.parse as typeof pgliteParse, chunks);
  };

  beforeAll(async () => {
    pglite = await PGlite.create();
    const raw = async (what: string, request: Uint8Array) =>
      replies.push({ what, bytes: await pglite.execProtocolRaw(request, { syncToFs: false }) });
    await raw(
      "simple query: every common type, nulls, unicode",
      serialize.query(`
        create table t (id serial primary key, name text unique, price bigint, at timestamptz, doc jsonb, tags text[], ok boolean, n numeric, raw bytea);
        insert into t (name, price, at, doc, tags, ok, n, raw) values
          ('naïve — ünïcødé 🌸', 12345678901234, '2026-12-07 05:00:00+00', '{"a": [1, "x"]}', '{a,"b c",NULL}', true, 3.14159, '\\x00ff'),
          ('', null, null, null, null, null, null, null);
        select * from t order by id;
        select 1 where false;
        update t set ok = false;
        delete from t where name = '';
        select;
      `),
    );
    await raw(
      "extended protocol: parse, bind, describe, execute, sync",
      Buffer.concat([
        serialize.parse({ name: "s1", text: "select $1::text as a, $2::int as b", types: [] }),
        serialize.bind({ statement: "s1", values: ["x", "42"] }),
        serialize.describe({ type: "P" }),
        serialize.execute({}),
        serialize.parse({ name: "", text: "insert into t (name) values ($1)", types: [] }),
        serialize.bind({ values: ["extended"] }),
        serialize.describe({ type: "P" }),
        serialize.execute({}),
        serialize.close({ type: "S", name: "s1" }),
        serialize.sync(),
      ]),
    );
    await raw(
      "a row limit: portal suspended",
      Buffer.concat([
        serialize.parse({ text: "select generate_series(1, 5) as n" }),
        serialize.bind({}),
        serialize.execute({ rows: 2 }),
        serialize.sync(),
      ]),
    );
    await raw("an error: unique violation", serialize.query("insert into t (name) values ('extended')"));
    await raw(
      "a notice and a notification",
      serialize.query("listen c; do $$ begin raise notice 'hello %', 1; end $$; notify c, 'payload'"),
    );
    await raw("an empty query", serialize.query(""));
  });

  afterAll(async () => {
    await pglite?.close();
  });

  it("parses every reply into the messages PGlite's parser makes", () => {
    const codes = new Set<number>();
    for (const { what, bytes } of replies) {
      const expected = parseAll(pgliteParse, [bytes]);
      expect(expected.length, what).toBeGreaterThan(1);
      expect(described(ours([bytes])), what).toEqual(described(expected));
      // The same objects where PGlite shares one (ParseComplete, BindComplete, ...).
      ours([bytes]).forEach((message, index) => {
        if (message.length === 4) expect(message, what).toBe(expected[index]);
      });
      for (let at = 0; at < bytes.length; at += 1 + Buffer.from(bytes).readUInt32BE(at + 1))
        codes.add(bytes[at] as number);
    }
    // The corpus covers what the parser reads itself and what it hands over.
    for (const code of "DCZT123nsINEA") expect(codes, code).toContain(code.charCodeAt(0));
  });

  it("takes a message cut anywhere across chunks", () => {
    for (const { what, bytes } of replies) {
      const expected = described(parseAll(pgliteParse, [bytes]));
      for (let cut = 1; cut < bytes.length; cut++) {
        expect(
          described(ours([bytes.subarray(0, cut), bytes.subarray(cut)])),
          `${what}, cut at ${cut}`,
        ).toEqual(expected);
      }
      // And a chunk per byte.
      const bytewise = [...bytes].map((byte) => Uint8Array.of(byte));
      expect(described(ours(bytewise)), what).toEqual(expected);
    }
  });

  it("does not keep the chunk it was given: a cut message survives the chunk being overwritten", () => {
    const { bytes } = replies[0] ?? { bytes: new Uint8Array() };
    const expected = described(parseAll(pgliteParse, [bytes]));
    // PGlite hands over a view of its WebAssembly memory, which the next write reuses.
    const memory = new Uint8Array(bytes.length);
    const cut = Math.floor(bytes.length / 2);
    const parser = new protocol.Parser();
    installReplyParser();
    const parsed: BackendMessage[] = [];
    memory.set(bytes.subarray(0, cut));
    parser.parse(memory.subarray(0, cut), (message) => parsed.push(message));
    memory.fill(0xee);
    memory.set(bytes.subarray(cut));
    parser.parse(memory.subarray(0, bytes.length - cut), (message) => parsed.push(message));
    expect(described(parsed)).toEqual(expected);
  });

  it("runs PGlite's queries once installed", async () => {
    installReplyParser();
    const result = await pglite.query<{ name: string; tags: string[] | null }>(
      "select name, tags from t where tags is not null",
    );
    expect(result.rows).toEqual([{ name: "naïve — ünïcødé 🌸", tags: ["a", "b c", null] }]);
    await expect(pglite.query("select * from missing")).rejects.toMatchObject({ code: "42P01" });
  });
});
