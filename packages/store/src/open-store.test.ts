import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// Which drivers got loaded. The PostgreSQL path is checked in open-store.postgres.test.ts: a
// test file of its own, because a module loaded by one test stays loaded for the next.
const loaded = vi.hoisted(() => new Set<string>());
vi.mock("pg", async (importOriginal) => {
  loaded.add("pg");
  return importOriginal();
});
vi.mock("@electric-sql/pglite", async (importOriginal) => {
  loaded.add("pglite");
  return importOriginal();
});

describe("openStore without a database URL", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "blossom-open-store-"));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("opens schema <service> of the PGlite cluster at <dataDir>/pglite and never loads pg", async () => {
    const { openStore } = await import("./index.js");
    expect(loaded).toEqual(new Set());
    const store = await openStore({ service: "orders", dataDir: join(dataDir, "not", "yet", "there") });
    try {
      expect(store.kind).toBe("pglite");
      expect(store.location).toBe(`${join(dataDir, "not", "yet", "there", "pglite")} (schema orders)`);
      await store.ping();
    } finally {
      await store.close();
    }
    expect(loaded).toEqual(new Set(["pglite"]));
  });

  it("refuses a service name that is not a plain identifier", async () => {
    const { openStore } = await import("./index.js");
    for (const service of ["", "..", "../etc", "a/b", ".hidden"]) {
      await expect(openStore({ service, dataDir })).rejects.toThrow(TypeError);
    }
  });
});
