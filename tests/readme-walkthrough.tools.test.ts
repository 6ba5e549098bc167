import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";

const README = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");

/** The shell block that follows "Try a whole checkout" in the README, as a reader copies it. */
function walkthrough(): string {
  const from = README.indexOf("Try a whole checkout");
  const block = /```sh\n([\s\S]*?)```/.exec(README.slice(from))?.[1];
  if (from < 0 || !block) throw new Error("the README has no checkout walkthrough");
  return block;
}

describe("the README's checkout walkthrough (curl and jq)", () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  }, 120_000);
  afterAll(async () => {
    await platform?.destroy();
  });

  it("runs as written: the order ends confirmed (Prefer: wait) and the customer is mailed", async () => {
    const written = walkthrough();
    // The only change: the gateway of this test's platform instead of the default port.
    const script = written.replace(/^api=localhost:8080$/m, `api=${platform.gateway}`);
    expect(script).not.toBe(written);
    const { stdout } = await promisify(execFile)("bash", ["-e", "-o", "pipefail", "-c", script], {
      timeout: 60_000,
    });
    expect(stdout).toMatch(/"status": "confirmed"/);
    expect(stdout).toMatch(/"history": \[/);
    expect(stdout).toContain('"order-confirmed"');
    expect(stdout).toContain('"welcome"');
  }, 90_000);
});
