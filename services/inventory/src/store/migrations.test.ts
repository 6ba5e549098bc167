import { migrateDown, migrateToLatest } from "@blossom/store";
import { testStoreFactories } from "@blossom/testkit";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { inventoryMigrations } from "./migrations.js";

describe.each(testStoreFactories())("inventory migrations on $adapter", (factory) => {
  it("apply, roll back the reservations and audit tables, and apply again, keeping products", async () => {
    const store = await factory.openStore("inventory");
    try {
      expect(await migrateToLatest(store, inventoryMigrations)).toEqual(Object.keys(inventoryMigrations));
      await sql`insert into products (id, sku, name, description, category, price_amount, currency, stock)
        values ('p1', 'SKU-1', 'n', 'd', 'c', 100, 'USD', 5)`.execute(store.db);
      expect(await migrateDown(store, inventoryMigrations, 3)).toEqual([
        "0004_audit_log",
        "0003_admin_changes",
        "0002_reservations",
      ]);
      expect(await migrateToLatest(store, inventoryMigrations)).toEqual([
        "0002_reservations",
        "0003_admin_changes",
        "0004_audit_log",
      ]);

      const { rows } = await sql<{
        stock: number;
        reserved: number;
      }>`select stock, reserved from products`.execute(store.db);
      expect(rows).toEqual([{ stock: 5, reserved: 0 }]);
    } finally {
      await store.close();
    }
  });
});
