#!/usr/bin/env node
// `npm start` and `npm run blossom`: runs the build (`npm run build`, made by `npm install`)
// when it is current, and the TypeScript sources through tsx when any source changed since.
// Why: compiling TypeScript on the fly costs about 1.5 s of start-up and 60 MB of memory
// (bench/startup.ts), but a developer who just edited a file must run what they edited.
// Plain JavaScript: it runs before anything is built.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../../..");
const args = process.argv.slice(2);

/**
 * The projects `npm run build` compiles with `tsc -b` (tsconfig.build.json's references): every
 * package, service, contract package and the launcher. Not the storefront (apps/web), which Vite
 * builds to static files and which the services never import.
 */
function projects() {
  const { references } = JSON.parse(readFileSync(join(root, "tsconfig.build.json"), "utf8"));
  return references.map((reference) => resolve(root, reference.path));
}

/**
 * The first project whose build is missing or older than one of its own inputs (the files its
 * tsbuildinfo lists inside the project), or undefined when every build is current. The same
 * test `tsc -b` makes, which touches the tsbuildinfo whenever it checks a project.
 */
function staleProject() {
  for (const dir of projects()) {
    const info = join(dir, "tsconfig.tsbuildinfo");
    if (!existsSync(info)) return dir;
    const builtAt = statSync(info).mtimeMs;
    const { fileNames } = JSON.parse(readFileSync(info, "utf8"));
    for (const file of fileNames) {
      const path = resolve(dirname(info), file);
      // Only the project's own sources: another project's declarations are that project's to
      // check (tsc -b may rewrite them unchanged without touching this tsbuildinfo).
      if (file.includes("node_modules") || !path.startsWith(`${dir}/`)) continue;
      if (!existsSync(path) || statSync(path).mtimeMs > builtAt) return dir;
    }
  }
  return undefined;
}

const stale = staleProject();
if (stale === undefined) {
  await import("../dist/main.js");
} else {
  process.stderr.write(
    `blossom: ${stale.slice(root.length + 1)} changed since the last build: running the sources through tsx (\`npm run build\` starts faster)\n`,
  );
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", join(root, "apps/blossom/src/main.ts"), ...args],
    { stdio: "inherit" },
  );
  // The child gets the terminal's Ctrl-C itself; a signal sent to this process only is passed on.
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) {
      // Die of the same signal, as the child did (our own handlers removed first).
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
