/**
 * Which `blossom` the benchmarks run. `npm start` runs the build (`npm run build`, which
 * `npm install` makes) whenever it is current, and the sources through tsx only after an edit:
 * so the benchmarks measure the build too, and refuse a stale one rather than measure old code.
 * `BENCH_BLOSSOM_ENTRY=source` measures the sources instead (tsx compiles them in the process:
 * about 100 MiB more and a slower start, apps/blossom/bin/blossom-dev.js).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { BLOSSOM_BUILT_ENTRY, type BlossomEntry } from "@blossom/testkit";

const ROOT = resolve(import.meta.dirname, "..");

/** Workspace projects whose sources changed after their last build (the build would be old code). */
export function staleBuilds(): string[] {
  const stale: string[] = [];
  // What `npm run build` compiles with tsc -b (not the storefront, which Vite builds).
  const compiled = new Set(
    (
      JSON.parse(readFileSync(join(ROOT, "tsconfig.build.json"), "utf8")) as {
        references: { path: string }[];
      }
    ).references.map((reference) => join(ROOT, reference.path)),
  );
  for (const group of ["packages", "services", "apps"]) {
    for (const name of readdirSync(join(ROOT, group))) {
      const project = join(ROOT, group, name);
      if (!compiled.has(project)) continue;
      const buildInfo = join(project, "tsconfig.tsbuildinfo");
      if (!existsSync(join(project, "src"))) continue;
      if (!existsSync(buildInfo)) {
        stale.push(`${group}/${name} (never built)`);
        continue;
      }
      const built = statSync(buildInfo).mtimeMs;
      if (newestSource(join(project, "src")) > built) stale.push(`${group}/${name}`);
    }
  }
  return stale;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
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
