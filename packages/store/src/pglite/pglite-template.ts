import { existsSync, readFileSync } from "node:fs";
import { cp, mkdtemp, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { PGlite } from "@electric-sql/pglite";

/**
 * A freshly initialised PGlite cluster, as a directory, to start new clusters from.
 *
 * Why: initdb inside PGlite costs about 2 s of CPU (3-5 s on a busy 2-core machine). Copying an
 * initialised cluster's directory takes tens of milliseconds, and opening the copy is the same
 * as opening an existing cluster: no tarball to hold in memory and unpack into PGlite's heap
 * (which left a first start 100 MB bigger than later ones). The directory is made once per
 * PGlite version and kept in the OS temp directory, so later processes (the next start, every
 * test worker) skip initdb entirely. A missing or unusable cache only costs the one initdb.
 */
let building: Promise<string> | undefined;

function templateDir(): string {
  // The package does not export its package.json: find it beside its entry point.
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const manifest = join(dirname(entry), "..", "package.json");
  const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
  const user = typeof process.getuid === "function" ? process.getuid() : "user";
  return join(tmpdir(), `blossom-pglite-template-${version}-${user}`);
}

async function buildTemplate(): Promise<string> {
  const path = templateDir();
  if (isInitialised(path)) return path;
  // Initialised beside and renamed, so a concurrent process never copies half a cluster.
  const partial = await mkdtemp(`${path}.partial-`);
  try {
    const fresh = await PGlite.create({ dataDir: partial });
    await fresh.close();
    await rename(partial, path).catch(async (error: unknown) => {
      // Another process got there first: use theirs.
      if (!isInitialised(path)) throw error;
    });
    return path;
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** Fills the empty directory `dataDir` with an initialised cluster (built or copied from the cache). */
export async function seedFromTemplate(dataDir: string): Promise<void> {
  // Concurrent callers share one build.
  building ??= buildTemplate().finally(() => {
    building = undefined;
  });
  await cp(await building, dataDir, { recursive: true });
}

/** Whether a data directory already holds a cluster (then it is opened as it is). */
export function isInitialised(dataDir: string | undefined): boolean {
  return dataDir !== undefined && existsSync(join(dataDir, "PG_VERSION"));
}
