import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive } from "./blossom-process.js";

/**
 * Temporary directories for test databases, named after the process that made them. Test
 * workers are often killed rather than exiting, so their clean-up code never runs; the next
 * run removes what dead processes left behind (tens of megabytes per PGlite directory).
 */

const PREFIX = "blossom-test-";
const OWNED = new RegExp(`^${PREFIX}(\\d+)-`);

/** A new empty directory under the OS temp dir, e.g. /tmp/blossom-test-1234-pglite-AbC123. */
export function makeTempDir(purpose: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-${purpose}-`));
}

/** Removes the directories of processes that no longer run. Never throws. */
export async function sweepStaleTempDirs(): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => []);
  await Promise.all(
    entries.map(async (entry) => {
      const pid = Number(OWNED.exec(entry)?.[1]);
      if (!Number.isInteger(pid) || isAlive(pid)) return;
      await rm(join(tmpdir(), entry), { recursive: true, force: true }).catch(() => {});
    }),
  );
}
