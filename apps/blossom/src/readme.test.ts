import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");
const README = readFileSync(resolve(ROOT, "README.md"), "utf8");
const SCRIPTS = Object.keys(
  (JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts,
);

/**
 * The README is what a newcomer reads in five minutes: short, with the quick start and the
 * commands; depth lives in docs/. The configuration reference is generated
 * (config-reference.test.ts), the walkthrough run as written (readme-walkthrough.tools.test.ts).
 */
describe("README", () => {
  it("is short: at most 200 lines", () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(200);
  });

  it("shows the two set-up commands and the test command", () => {
    expect(README).toMatch(/npm install( .*)?\nnpm start/);
    expect(README).toMatch(/npm test/);
  });

  it("names only npm scripts that exist", () => {
    const named = [...README.matchAll(/npm run ([a-z:-]+)/g)].map((match) => match[1] ?? "");
    expect(named.length).toBeGreaterThan(4);
    expect(named.filter((name) => !SCRIPTS.includes(name))).toEqual([]);
  });

  it("links only to files that exist, docs/ among them", () => {
    const links = [...README.matchAll(/\]\(((?:docs|services|deploy|apps)\/[^)#]+)/g)].map(
      (match) => match[1] ?? "",
    );
    expect(links).toContain("docs/configuration.md");
    expect(links.filter((link) => !existsSync(resolve(ROOT, link)))).toEqual([]);
  });
});
