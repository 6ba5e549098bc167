#!/usr/bin/env node
// `npm start` and `npm run blossom`: runs the build (`npm run build`, made by `npm install`)
// when it is current, and the TypeScript sources through tsx when any source changed since.
// Why: compiling TypeScript on the fly costs about 1.5 s of start-up and 60 MB of memory
// (bench/startup.ts), but a developer who just edited a file must run what they edited.
// Plain JavaScript: it runs before anything is built.
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { staleProjects } from "./stale-build.js";

const root = resolve(import.meta.dirname, "../../..");
const args = process.argv.slice(2);

const [stale] = staleProjects(root);
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
