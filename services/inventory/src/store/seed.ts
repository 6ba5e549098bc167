import { randomUUID } from "node:crypto";
import type { ServiceContext } from "@blossom/host";
import { demoCatalog } from "../domain/demo-catalog.js";
import { ProductCreated } from "../events/contracts.js";
import { insertProduct } from "./products-store.js";
import type { InventoryTables } from "./tables.js";

/** Seeds the demo catalog once: products whose SKU exists are left as they are. */
export async function seedDemoCatalog(context: ServiceContext<InventoryTables>): Promise<void> {
  let added = 0;
  await context.transaction(async (trx) => {
    // One read on every later start, instead of an insert per product that finds its SKU taken
    // (a quarter of a second of a warm `npm start`, measured). The insert below still skips a
    // SKU that another replica seeded meanwhile.
    const existing = await trx
      .selectFrom("products")
      .select("sku")
      .where(
        "sku",
        "in",
        demoCatalog.map((product) => product.sku),
      )
      .execute();
    const seeded = new Set(existing.map((row) => row.sku));
    for (const product of demoCatalog) {
      if (seeded.has(product.sku)) continue;
      const id = randomUUID();
      const price = { amount: product.priceCents, currency: "USD" as const };
      const row = {
        id,
        sku: product.sku,
        name: product.name,
        description: product.description,
        category: product.category,
        price_amount: price.amount,
        currency: price.currency,
        stock: product.stock,
      };
      if (!(await insertProduct(trx, row))) continue;
      await context.outbox.add(trx, ProductCreated, id, {
        productId: id,
        sku: product.sku,
        name: product.name,
        category: product.category,
        price,
        stock: product.stock,
      });
      added += 1;
    }
  });
  if (added > 0) context.logger.info({ products: added }, "demo catalog seeded");
}
