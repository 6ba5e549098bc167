import { protocol } from "@electric-sql/pglite";
import { prepareValue } from "pg/lib/utils.js";
import { describe, expect, it } from "vitest";
import { bindAndRun, parseMessage, plainStatement } from "./statement-messages.js";

// The store's own Bind must be byte for byte what PGlite's serializer writes for the same values.
describe("statement messages", () => {
  const parameters: unknown[] = [
    "plain",
    "naïve — ünïcødé 🌸",
    "",
    null,
    undefined,
    42,
    -7.25,
    12345678901234567890n,
    true,
    new Date("2026-12-06T23:59:59.123Z"),
    [1, 2, 3],
    ["a", null, "c,d"],
    { nested: { list: [1, "x"] } },
    Buffer.from([0, 1, 2, 255]),
  ];

  it("binds every kind of parameter exactly as PGlite's serializer does", () => {
    for (const statement of ["", "blossom_17"]) {
      const [bind, rest] = bindAndRun(statement, parameters);
      const expected = protocol.serialize.bind({ statement, values: parameters.map(prepareValue) });
      expect(Buffer.from(bind ?? [])).toEqual(Buffer.from(expected));
      expect(Buffer.from(rest ?? [])).toEqual(
        Buffer.concat([
          protocol.serialize.describe({ type: "P" }),
          protocol.serialize.execute({}),
          protocol.serialize.sync(),
        ]),
      );
    }
    const [empty] = bindAndRun("s", []);
    expect(Buffer.from(empty ?? [])).toEqual(
      Buffer.from(protocol.serialize.bind({ statement: "s", values: [] })),
    );
  });

  it("runs a statement without parameters with Parse, Bind and Execute, the same bytes each time", () => {
    const first = plainStatement("begin");
    expect(first).toEqual(
      Buffer.concat([
        protocol.serialize.parse({ text: "begin" }),
        protocol.serialize.bind({}),
        protocol.serialize.execute({}),
      ]),
    );
    expect(plainStatement("begin")).toBe(first);
    expect(Buffer.from(parseMessage("blossom_1", "select $1"))).toEqual(
      Buffer.from(protocol.serialize.parse({ name: "blossom_1", text: "select $1" })),
    );
  });
});
