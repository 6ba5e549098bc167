import { describe, expect, it, vi } from "vitest";

// Which drivers got loaded (see open-store.test.ts for the embedded path).
const loaded = vi.hoisted(() => new Set<string>());
// The PostgreSQL adapter, not `pg` itself: the adapter loads `pg` through require (so that the
// OpenTelemetry pg instrumentation sees it), which vi.mock cannot observe.
vi.mock("./postgres/open-postgres.js", async (importOriginal) => {
  loaded.add("pg");
  return importOriginal();
});

vi.mock("@electric-sql/pglite", async (importOriginal) => {
  loaded.add("pglite");
  return importOriginal();
});

describe("openStore with a database URL", () => {
  it("opens PostgreSQL without connecting, masks the password, never loads PGlite", async () => {
    const { openStore } = await import("./index.js");
    expect(loaded).toEqual(new Set());
    // Nothing listens on port 1: opening must not connect; only a query would.
    const store = await openStore({
      service: "orders",
      dataDir: "/nonexistent",
      databaseUrl: "postgres://blossom:s3cret@127.0.0.1:1/orders",
    });
    try {
      expect(store.kind).toBe("postgres");
      expect(store.location).toBe("postgres://blossom:***@127.0.0.1:1/orders");
      await expect(store.ping()).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await store.close();
    }
    expect(loaded).toEqual(new Set(["pg"]));
  });
});
