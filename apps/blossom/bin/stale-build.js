// Whether `npm run build` is older than the sources: the one rule `npm start` (blossom-dev.js)
// uses to choose between the build and the sources, and the benchmarks use to refuse a stale
// build (bench/blossom-build.ts), so that they measure exactly what npm start would run.
// Plain JavaScript: it runs before anything is built.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * The projects `npm run build` compiles with `tsc -b` (tsconfig.build.json's references): every
 * package, service, contract package and the launcher. Not the storefront (apps/web), which Vite
 * builds to static files and which the services never import.
 */
function projects(root) {
  const { references } = JSON.parse(readFileSync(join(root, "tsconfig.build.json"), "utf8"));
  return references.map((reference) => resolve(root, reference.path));
}

/**
 * The projects under `root` whose build is missing or older than one of its own inputs (the
 * files its tsbuildinfo lists inside the project), as absolute paths; empty when every build is
 * current. The same test `tsc -b` makes, which touches the tsbuildinfo whenever it checks a project.
 */
export function staleProjects(root) {
  const stale = [];
  for (const dir of projects(root)) {
    const info = join(dir, "tsconfig.tsbuildinfo");
    if (!existsSync(info)) {
      stale.push(dir);
      continue;
    }
    const builtAt = statSync(info).mtimeMs;
    const { fileNames } = JSON.parse(readFileSync(info, "utf8"));
    const changed = fileNames.some((file) => {
      const path = resolve(dirname(info), file);
      // Only the project's own sources: another project's declarations are that project's to
      // check (tsc -b may rewrite them unchanged without touching this tsbuildinfo).
      if (file.includes("node_modules") || !path.startsWith(`${dir}/`)) return false;
      return !existsSync(path) || statSync(path).mtimeMs > builtAt;
    });
    if (changed) stale.push(dir);
  }
  return stale;
}
