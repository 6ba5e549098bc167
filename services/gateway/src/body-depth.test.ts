import { describe, expect, it } from "vitest";
import { nestsDeeperThan } from "./body-depth.js";

describe("nestsDeeperThan", () => {
  it("counts arrays and objects, not scalars, and stops at the limit", () => {
    expect(nestsDeeperThan("text", 0)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: 2 }] }, 2)).toBe(true);
    expect(nestsDeeperThan([[], {}, null], 2)).toBe(false);
  });

  it("measures 100,000 levels without overflowing the stack", () => {
    const deep = JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    expect(nestsDeeperThan(deep, 64)).toBe(true);
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
  });
});
