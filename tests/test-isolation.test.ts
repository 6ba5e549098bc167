import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");

/** Every `*.test.ts` that vitest.config.ts runs (npm test, and test:distributed with the same projects). */
function npmTestFiles(dir: string, found: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) npmTestFiles(path, found);
    else if (
      entry.name.endsWith(".test.ts") &&
      !/\.(browser|overload|processes|tools|chaos)\.test\.ts$/.test(entry.name)
    )
      found.push(relative(ROOT, path));
  }
  return found;
}

describe("test isolation", () => {
  // npm test runs most files one after another in a shared worker process (vitest.config.ts,
  // project "shared"). OpenTelemetry's tracing is once per process and stays on: a file that
  // starts it there leaks its spans into the files that follow (an outbox test then found a
  // real traceparent where it expected its own; CI failed on it).
  it("runs every file that starts tracing in a process of its own", () => {
    const config = readFileSync(join(ROOT, "vitest.config.ts"), "utf8");
    const ownProcess = config.slice(
      config.indexOf("const ownProcess"),
      config.indexOf("];", config.indexOf("const ownProcess")),
    );
    const starting = ["packages", "services", "apps", "tests"]
      .flatMap((dir) => npmTestFiles(join(ROOT, dir)))
      .filter((file) => /\bstartTracing\(/.test(readFileSync(join(ROOT, file), "utf8")));
    expect(starting.length).toBeGreaterThan(0);
    expect(starting.filter((file) => !ownProcess.includes(`"${file}"`))).toEqual([]);
  });
});
