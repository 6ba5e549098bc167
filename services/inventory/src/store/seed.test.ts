import { startServiceForTest } from "@blossom/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { demoCatalog } from "../domain/demo-catalog.js";
import { ProductCreated } from "../events/contracts.js";
import { inventoryService } from "../service.js";

const started: Array<{ close(options?: { keepData?: boolean }): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((service) => service.close()));
});

describe("the demo catalog seed", () => {
  it("seeds every demo product once, and a restart leaves them as an admin left them", async () => {
    const first = await startServiceForTest(inventoryService, { seed: true, logLevel: "warn" });
    const products = () =>
      first.host.context.db.selectFrom("products").select(["sku", "stock"]).orderBy("sku").execute();
    expect((await products()).map((row) => row.sku)).toEqual(
      demoCatalog.map((product) => product.sku).sort(),
    );
    expect(first.published.filter((event) => event.type === ProductCreated.type)).toHaveLength(
      demoCatalog.length,
    );
    const [changed] = demoCatalog;
    if (!changed) throw new Error("empty demo catalog");
    await first.host.context.db
      .updateTable("products")
      .set({ stock: 7 })
      .where("sku", "=", changed.sku)
      .execute();
    await first.close({ keepData: true });

    const again = await startServiceForTest(inventoryService, {
      seed: true,
      logLevel: "warn",
      dataDir: first.dataDir,
    });
    started.push(again);
    const rows = await again.host.context.db.selectFrom("products").select(["sku", "stock"]).execute();
    expect(rows).toHaveLength(demoCatalog.length);
    expect(rows.find((row) => row.sku === changed.sku)?.stock).toBe(7);
    expect(again.published.filter((event) => event.type === ProductCreated.type)).toEqual([]);
  });
});
