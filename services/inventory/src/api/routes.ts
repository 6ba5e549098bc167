import { randomUUID } from "node:crypto";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem } from "@blossom/runtime";
import { decodeCursor, encodeCursor } from "../domain/cursor.js";
import { ProductCreated } from "../events/contracts.js";
import { findProduct, insertProduct, listProducts } from "../store/products-store.js";
import type { InventoryTables } from "../store/tables.js";
import { toProductView } from "./product-view.js";
import { CreateProductBody, ListProductsQuery, ProductPage, ProductParams, ProductView } from "./schemas.js";

export function inventoryRoutes(app: App, context: ServiceContext<InventoryTables>): void {
  app.get(
    "/api/inventory/products",
    { schema: { querystring: ListProductsQuery, response: { 200: ProductPage } } },
    async (request) => {
      const { q, category, limit, cursor } = request.query;
      const afterSku = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && afterSku === undefined)
        throw HttpProblem.of("validation", "cursor is not valid");
      const rows = await listProducts(context.db, { q, category, afterSku, limit });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toProductView),
        nextCursor: rows.length > limit && last ? encodeCursor(last.sku) : null,
      };
    },
  );

  app.get(
    "/api/inventory/products/:id",
    { schema: { params: ProductParams, response: { 200: ProductView } } },
    async (request) => {
      const row = await findProduct(context.db, request.params.id);
      if (!row) throw HttpProblem.of("notFound", `No product ${request.params.id}`);
      return toProductView(row);
    },
  );

  app.post(
    "/api/inventory/products",
    { schema: { body: CreateProductBody, response: { 201: ProductView } } },
    async (request, reply) => {
      const { sku, name, description, category, price, stock } = request.body;
      const row = {
        id: randomUUID(),
        sku,
        name,
        description,
        category,
        price_amount: price.amount,
        currency: price.currency,
        stock,
      };
      const created = await context.transaction(async (trx) => {
        if (!(await insertProduct(trx, row))) return false;
        await context.outbox.add(trx, ProductCreated, row.id, {
          productId: row.id,
          sku,
          name,
          category,
          price,
          stock,
        });
        return true;
      });
      if (!created) {
        throw new HttpProblem({
          status: 409,
          slug: "sku-taken",
          title: "SKU already exists",
          detail: `A product with sku ${sku} exists`,
        });
      }
      return reply.code(201).send(toProductView({ ...row, created_at: new Date(), updated_at: new Date() }));
    },
  );
}
