import { randomBytes } from "node:crypto";
import { testAdapters } from "@blossom/testkit";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { dropPostgresDatabase, ensurePostgresDatabase } from "./ensure-database.js";

const { store, postgresUrl } = testAdapters();

describe("ensurePostgresDatabase", () => {
  it("refuses an unsafe name before connecting anywhere", async () => {
    await expect(ensurePostgresDatabase("postgres://127.0.0.1:1/postgres", 'x"; drop')).rejects.toThrow(
      TypeError,
    );
    await expect(dropPostgresDatabase("postgres://127.0.0.1:1/postgres", "Bad-Name")).rejects.toThrow(
      TypeError,
    );
  });

  // Needs the server: runs when BLOSSOM_TEST_ADAPTERS names postgres, and then fails if it is down.
  it.runIf(store.includes("postgres"))("creates once, even when racing, and drops", async () => {
    const name = `blossom_test_${randomBytes(6).toString("hex")}`;
    try {
      const created = await Promise.all([1, 2, 3].map(() => ensurePostgresDatabase(postgresUrl, name)));
      expect(created.filter(Boolean)).toHaveLength(1);
      expect(await ensurePostgresDatabase(postgresUrl, name)).toBe(false);
      expect(await databaseExists(name)).toBe(true);
    } finally {
      await dropPostgresDatabase(postgresUrl, name);
    }
    expect(await databaseExists(name)).toBe(false);
    await dropPostgresDatabase(postgresUrl, name); // dropping what is gone is fine
  });
});

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    const result = await client.query("select 1 from pg_database where datname = $1", [name]);
    return result.rowCount === 1;
  } finally {
    await client.end();
  }
}
