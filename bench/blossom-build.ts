/**
 * Which `blossom` the benchmarks run. `npm start` runs the build (`npm run build`, which
 * `npm install` makes) whenever it is current, and the sources through tsx only after an edit:
 * so the benchmarks measure the build too, and refuse one npm start would not run (stale-build.js).
 * `BENCH_BLOSSOM_ENTRY=source` measures the sources instead (tsx compiles them in the process:
 * about 100 MiB more and a slower start, apps/blossom/bin/blossom-dev.js).
 */
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { BLOSSOM_BUILT_ENTRY, type BlossomEntry } from "@blossom/testkit";
import { staleProjects } from "../apps/blossom/bin/stale-build.js";

const ROOT = resolve(import.meta.dirname, "..");

/**
 * Workspace projects (relative paths) whose build is missing or older than their sources: by the
 * rule npm start itself uses to run the sources instead (apps/blossom/bin/stale-build.js).
 */
export function staleBuilds(): string[] {
  return staleProjects(ROOT).map((dir) => relative(ROOT, dir));
}

let checked: BlossomEntry | undefined;

/**
 * BENCH_BLOSSOM_ENTRY: `built` (the default) or `source`. Throws, saying what to do, when the
 * build is missing or older than a source: its figures would be another code's.
 */
export function benchEntry(): BlossomEntry {
  if (checked) return checked;
  const value = process.env.BENCH_BLOSSOM_ENTRY?.trim() || "built";
  if (value !== "built" && value !== "source")
    throw new Error(`BENCH_BLOSSOM_ENTRY must be built or source, not ${JSON.stringify(value)}`);
  if (value === "built") {
    if (!existsSync(join(ROOT, BLOSSOM_BUILT_ENTRY)))
      throw new Error(
        `${BLOSSOM_BUILT_ENTRY} is missing: run \`npm run build\` (or BENCH_BLOSSOM_ENTRY=source)`,
      );
    const stale = staleBuilds();
    if (stale.length > 0)
      throw new Error(
        `the build is older than the sources of ${stale.join(", ")}: run \`npm run build\` (the benchmarks measure the build, which npm start runs), or set BENCH_BLOSSOM_ENTRY=source`,
      );
  }
  checked = value;
  return checked;
}
