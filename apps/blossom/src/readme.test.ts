import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigSchema } from "./config.js";
import { SERVICE_NAMES } from "./topology.js";

const README = readFileSync(resolve(import.meta.dirname, "../../../README.md"), "utf8");

describe("README configuration table", () => {
  it("documents every variable the platform reads", () => {
    const perService = new RegExp(`^(${SERVICE_NAMES.map((name) => name.toUpperCase()).join("|")})_`);
    const documented = (name: string) =>
      README.includes(`\`${name}\``) || README.includes(`\`${name.replace(perService, "<SERVICE>_")}\``);
    const missing = Object.keys(ConfigSchema.properties).filter((name) => !documented(name));
    expect(missing).toEqual([]);
  });

  it("shows the two set-up commands and the test command", () => {
    expect(README).toMatch(/npm install\nnpm start/);
    expect(README).toMatch(/npm test/);
  });
});
