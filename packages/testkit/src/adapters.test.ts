import { testAdapters } from "@blossom/testkit";
import { describe, expect, it } from "vitest";

describe("testAdapters", () => {
  it("defaults to the embedded adapters", () => {
    expect(testAdapters({})).toMatchObject({ bus: ["memory"], store: ["pglite"] });
  });
  it("refuses an unknown adapter", () => {
    expect(() => testAdapters({ BLOSSOM_TEST_ADAPTERS: "kafka" })).toThrow(/kafka/);
  });
});
