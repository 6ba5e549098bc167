import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataDirLockedError } from "./data-dir-lock.js";
import { openPglite, PGLITE_IN_MEMORY } from "./open-pglite.js";

// What the contract suite cannot cover through testkit: the in-memory mode and the guard
// against opening one data directory twice.
describe("openPglite", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "blossom-pglite-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("keeps an in-memory database in memory", async () => {
    const store = await openPglite({ service: "memory-test" });
    try {
      expect(store).toMatchObject({ kind: "pglite", location: PGLITE_IN_MEMORY });
      await store.ping();
    } finally {
      await store.close();
    }
  });

  it("refuses to open a data directory that is already open, until it is closed", async () => {
    const dataDir = join(root, "svc");
    const first = await openPglite({ dataDir, service: "first" });
    await expect(openPglite({ dataDir, service: "second" })).rejects.toThrow(DataDirLockedError);
    await first.close();
    await expect(readFile(`${dataDir}.lock`)).rejects.toMatchObject({ code: "ENOENT" });
    const again = await openPglite({ dataDir, service: "second" });
    await again.close();
  });

  it("refuses a directory locked by another live process", async () => {
    const dataDir = join(root, "svc");
    // The parent (vitest's main process) is alive and is not this process.
    await writeFile(`${dataDir}.lock`, JSON.stringify({ pid: process.ppid, host: hostname() }));
    await expect(openPglite({ dataDir, service: "svc" })).rejects.toThrow(/in use by process/);
  });

  it("takes over a lock left by a process that is gone", async () => {
    const dataDir = join(root, "svc");
    await writeFile(`${dataDir}.lock`, JSON.stringify({ pid: 2 ** 22 + 1, host: hostname() })); // above pid_max
    const store = await openPglite({ dataDir, service: "svc" });
    expect(JSON.parse(await readFile(`${dataDir}.lock`, "utf8"))).toEqual({
      pid: process.pid,
      host: hostname(),
    });
    await store.close();
  });
});
