import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigSchema } from "./config.js";
import { renderConfigReference } from "./config-reference.js";

const REFERENCE = resolve(import.meta.dirname, "../../../docs/configuration.md");

describe("docs/configuration.md", () => {
  it("is generated from the configuration schema (UPDATE_GENERATED=1 rewrites it)", () => {
    const expected = renderConfigReference();
    if (process.env.UPDATE_GENERATED === "1") writeFileSync(REFERENCE, expected);
    expect(
      readFileSync(REFERENCE, "utf8"),
      "stale: run UPDATE_GENERATED=1 npx vitest run apps/blossom/src/config-reference.test.ts",
    ).toBe(expected);
  });

  it("lists every variable once, with its description", () => {
    const text = renderConfigReference();
    for (const [name, schema] of Object.entries(ConfigSchema.properties)) {
      expect(text.split(`| \`${name}\` |`).length - 1, name).toBe(1);
      expect((schema as { description?: string }).description, `${name} has no description`).toBeTruthy();
    }
  });
});
