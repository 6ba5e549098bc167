import type { MessagingTables } from "@blossom/bus";
import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from "kysely";
import type { InventoryTables } from "./tables.js";

export type InventoryDb = Kysely<InventoryTables & MessagingTables>;
export type ProductRow = Selectable<InventoryTables["products"]>;
/** A product with what customers can order now. */
export type ProductRecord = ProductRow & { available: number };
export type NewProduct = Omit<
  Insertable<InventoryTables["products"]>,
  "reserved" | "created_at" | "updated_at"
>;
export type ProductChanges = Pick<
  Updateable<InventoryTables["products"]>,
  "name" | "description" | "category" | "price_amount" | "currency"
>;

export interface ProductFilter {
  q?: string | undefined;
  category?: string | undefined;
  afterSku?: string | undefined;
  limit: number;
}

/**
 * Available units: stock minus held units, not counting holds whose time has passed. Those are
 * released lazily by the next write that locks the product (see stock-store.ts) and by the
 * expiry sweep, so a read is right at once, with no timer involved.
 */
const available = sql<number>`(products.stock - products.reserved + coalesce((
    select sum(lines.quantity)
    from reservation_lines as lines
    join reservations on reservations.order_id = lines.order_id
    where lines.product_id = products.id and lines.held and reservations.expires_at <= now()
  ), 0))::integer`.as("available");

/** Escapes LIKE wildcards so a search for "50%" means the text "50%". */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;
}

/** Products by SKU, one page past `afterSku`; fetches one extra row to know if a next page exists. */
export async function listProducts(db: InventoryDb, filter: ProductFilter): Promise<ProductRecord[]> {
  let query = db
    .selectFrom("products")
    .selectAll()
    .select(available)
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

/** The current price of each of `ids` that names a product (others are left out). */
export async function findPrices(
  db: InventoryDb,
  ids: readonly string[],
): Promise<Array<Pick<ProductRow, "id" | "price_amount">>> {
  if (ids.length === 0) return [];
  return db.selectFrom("products").select(["id", "price_amount"]).where("id", "in", ids).execute();
}

export async function findProduct(db: InventoryDb, id: string): Promise<ProductRecord | undefined> {
  return db.selectFrom("products").selectAll().select(available).where("id", "=", id).executeTakeFirst();
}

/** Inserts a product; false if its SKU exists (nothing written). */
export async function insertProduct(db: InventoryDb, product: NewProduct): Promise<boolean> {
  const inserted = await db
    .insertInto("products")
    .values(product)
    .onConflict((conflict) => conflict.column("sku").doNothing())
    .returning("id")
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Changes a product's descriptive fields and price; false if there is no such product. */
export async function updateProduct(db: InventoryDb, id: string, changes: ProductChanges): Promise<boolean> {
  const updated = await db
    .updateTable("products")
    .set({ ...changes, updated_at: sql`now()` })
    .where("id", "=", id)
    .returning("id")
    .executeTakeFirst();
  return updated !== undefined;
}
