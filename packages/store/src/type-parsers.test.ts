import { describe, expect, it } from "vitest";
import { parseDate, parseInt8 } from "./type-parsers.js";

describe("parseInt8", () => {
  it("returns safe integers as numbers", () => {
    expect(parseInt8("0")).toBe(0);
    expect(parseInt8("-9007199254740991")).toBe(-9_007_199_254_740_991);
  });
  it("refuses values JavaScript numbers cannot hold exactly", () => {
    expect(() => parseInt8("9007199254740992")).toThrow(RangeError);
    expect(() => parseInt8("-9223372036854775808")).toThrow(RangeError);
  });
});

describe("parseDate", () => {
  it("keeps the calendar day as text", () => {
    expect(parseDate("2024-02-29")).toBe("2024-02-29");
  });
});
