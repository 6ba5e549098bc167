import type { MessagingTables } from "@blossom/bus";
import type { Kysely, Selectable } from "kysely";
import type { InventoryTables } from "./tables.js";

export type InventoryDb = Kysely<InventoryTables & MessagingTables>;
export type ProductRow = Selectable<InventoryTables["products"]>;

export interface ProductFilter {
  q?: string | undefined;
  category?: string | undefined;
  afterSku?: string | undefined;
  limit: number;
}

/** Escapes LIKE wildcards so a search for "50%" means the text "50%". */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;
}

/** Products by SKU, one page past `afterSku`; fetches one extra row to know if a next page exists. */
export async function listProducts(db: InventoryDb, filter: ProductFilter): Promise<ProductRow[]> {
  let query = db
    .selectFrom("products")
    .selectAll()
    .orderBy("sku")
    .limit(filter.limit + 1);
  if (filter.category) query = query.where("category", "=", filter.category);
  if (filter.afterSku) query = query.where("sku", ">", filter.afterSku);
  if (filter.q) {
    const pattern = likePattern(filter.q);
    query = query.where((eb) => eb.or([eb("name", "ilike", pattern), eb("description", "ilike", pattern)]));
  }
  return query.execute();
}

export async function findProduct(db: InventoryDb, id: string): Promise<ProductRow | undefined> {
  return db.selectFrom("products").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function insertProduct(
  db: InventoryDb,
  product: Omit<ProductRow, "created_at" | "updated_at">,
): Promise<boolean> {
  const inserted = await db
    .insertInto("products")
    .values(product)
    .onConflict((conflict) => conflict.column("sku").doNothing())
    .returning("id")
    .executeTakeFirst();
  return inserted !== undefined;
}
