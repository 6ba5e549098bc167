import { readFile, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";

/**
 * PGlite does not notice a second instance opening the same data directory, and two instances
 * writing one directory corrupt it. This guard makes the second open fail instead.
 */

/** A data directory is already open, in this process or in another live one on this host. */
export class DataDirLockedError extends Error {
  override readonly name = "DataDirLockedError";
  constructor(
    readonly dataDir: string,
    reason: string,
  ) {
    super(`PGlite data directory ${dataDir} ${reason}`);
  }
}

interface LockOwner {
  pid: number;
  host: string;
}

// The directories this process holds. Module state on purpose: the resource it guards (a
// directory on disk) is shared by the whole process, whichever service opened it.
const heldHere = new Set<string>();

/**
 * Takes the lock on `dataDir` (a `<dataDir>.lock` file beside it, holding pid and host) and
 * returns its idempotent release. Fails with DataDirLockedError if this process already holds it
 * or a live process on this host does. A lock left behind by a dead process, by an earlier
 * incarnation of this pid (container restart) or by another host name is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  // Reserved synchronously, before any await, so two opens racing in this process cannot both pass.
  if (heldHere.has(dataDir)) throw new DataDirLockedError(dataDir, "is already open in this process");
  heldHere.add(dataDir);
  const lockPath = `${dataDir}.lock`;
  const me: LockOwner = { pid: process.pid, host: hostname() };
  try {
    await acquireLockFile(dataDir, lockPath, me);
  } catch (err) {
    heldHere.delete(dataDir);
    throw err;
  }
  let released: Promise<void> | undefined;
  return () => {
    released ??= (async () => {
      try {
        // Only our own lock is removed: after a takeover the file may belong to someone else.
        const owner = await readOwner(lockPath).catch(() => undefined);
        if (owner?.pid === me.pid && owner.host === me.host) await unlink(lockPath).catch(ignoreNotFound);
      } finally {
        heldHere.delete(dataDir);
      }
    })();
    return released;
  };
}

async function acquireLockFile(dataDir: string, lockPath: string, me: LockOwner): Promise<void> {
  // Two attempts: the second follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockPath, `${JSON.stringify(me)}\n`, { flag: "wx" });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = await readOwner(lockPath).catch(() => undefined);
    if (owner && owner.host === me.host && owner.pid !== me.pid && isAlive(owner.pid)) {
      throw new DataDirLockedError(
        dataDir,
        `is in use by process ${owner.pid} (lock file ${lockPath}; delete it only if that process is not Blossom)`,
      );
    }
    await unlink(lockPath).catch(ignoreNotFound);
  }
  throw new DataDirLockedError(dataDir, `could not be locked: ${lockPath} keeps reappearing`);
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  const parsed: unknown = JSON.parse(await readFile(lockPath, "utf8"));
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { pid, host } = parsed as Partial<LockOwner>;
  return typeof pid === "number" && typeof host === "string" ? { pid, host } : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0 only checks that the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by another user
  }
}

function ignoreNotFound(err: unknown): void {
  if ((err as NodeJS.ErrnoException | undefined)?.code !== "ENOENT") throw err;
}
