import { ConfigError } from "@blossom/runtime";
import { Type } from "@sinclair/typebox";
import { describe, expect, expectTypeOf, it } from "vitest";
import { resolveSettings } from "./settings.js";

const schema = {
  SHOP_TTL_SECONDS: Type.Integer({ minimum: 60, default: 900, description: "lifetime of a thing" }),
  SHOP_MODE: Type.Union([Type.Literal("fast"), Type.Literal("safe")], { default: "safe" }),
  SHOP_URL: Type.Optional(Type.String({ pattern: "^https?://" })),
  SHOP_SECRET_KEY: Type.Optional(Type.String({ minLength: 32 })),
};

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    resolveSettings(schema, raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

describe("resolveSettings", () => {
  it("converts environment strings, applies the defaults and types the result", () => {
    const settings = resolveSettings(schema, { SHOP_TTL_SECONDS: "120", OTHER: "ignored" });
    expect(settings).toEqual({ SHOP_TTL_SECONDS: 120, SHOP_MODE: "safe" });
    expectTypeOf(settings.SHOP_TTL_SECONDS).toEqualTypeOf<number>();
    expectTypeOf(settings.SHOP_MODE).toEqualTypeOf<"fast" | "safe">();
    expectTypeOf(settings.SHOP_URL).toEqualTypeOf<string | undefined>();
  });

  it("takes values a test passes already typed, and treats empty ones as unset", () => {
    expect(resolveSettings(schema, { SHOP_TTL_SECONDS: 60, SHOP_URL: "", SHOP_MODE: null })).toEqual({
      SHOP_TTL_SECONDS: 60,
      SHOP_MODE: "safe",
    });
  });

  it("lists every problem in one ConfigError, by variable, never quoting a secret", () => {
    const problems = problemsOf({
      SHOP_TTL_SECONDS: "10",
      SHOP_MODE: "reckless",
      SHOP_URL: "ftp://x",
      SHOP_SECRET_KEY: "too-short-secret",
    });
    expect(problems.map((problem) => problem.split(" ")[0]).sort()).toEqual([
      "SHOP_MODE",
      "SHOP_SECRET_KEY",
      "SHOP_TTL_SECONDS",
      "SHOP_URL",
    ]);
    expect(problems.join("\n")).toMatch(/SHOP_TTL_SECONDS = 10: .*lifetime of a thing/);
    expect(problems.join("\n")).not.toContain("too-short-secret");
    expect(problemsOf({ SHOP_TTL_SECONDS: "90.5" })).toEqual([
      expect.stringMatching(/^SHOP_TTL_SECONDS = "90.5": must be a whole number/),
    ]);
  });

  it("resolves a schema of no variables to no settings", () => {
    expect(resolveSettings({}, { ANYTHING: "x" })).toEqual({});
  });
});
