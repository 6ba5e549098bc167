import { existsSync, readFileSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { PGlite } from "@electric-sql/pglite";

/**
 * A freshly initialised PGlite cluster, as a tarball, to start new databases from.
 *
 * Why: initdb inside PGlite costs about 2 s of CPU per database (3-5 s on a busy 2-core
 * machine), and `npm start` creates five; loading an initialised cluster takes about 0.5 s. The
 * tarball is made once per PGlite version and kept in the OS temp directory, so later processes
 * (the next start, every test worker) skip initdb entirely. A missing or unreadable cache only
 * costs the one initdb.
 */
let template: Promise<Blob> | undefined;

function templatePath(): string {
  // The package does not export its package.json: find it beside its entry point.
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const manifest = join(dirname(entry), "..", "package.json");
  const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
  const user = typeof process.getuid === "function" ? process.getuid() : "user";
  return join(tmpdir(), `blossom-pglite-template-${version}-${user}.tar`);
}

async function buildTemplate(): Promise<Blob> {
  const path = templatePath();
  if (existsSync(path)) {
    try {
      return new Blob([await readFile(path)]);
    } catch {
      // Unreadable cache: make a new one below.
    }
  }
  const fresh = await PGlite.create();
  try {
    const dump = await fresh.dumpDataDir("none");
    const partial = `${path}.${process.pid}.partial`;
    // Written beside and renamed, so a concurrent reader never sees half a file.
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()))
      .then(() => rename(partial, path))
      .catch(() => {});
    return dump;
  } finally {
    await fresh.close();
  }
}

/** The initialised-cluster tarball; built or read once per process. */
export function pgliteTemplate(): Promise<Blob> {
  template ??= buildTemplate().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

/** Whether a data directory already holds a cluster (then it is opened as it is). */
export function isInitialised(dataDir: string | undefined): boolean {
  return dataDir !== undefined && existsSync(join(dataDir, "PG_VERSION"));
}
