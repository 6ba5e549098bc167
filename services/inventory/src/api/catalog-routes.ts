import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem } from "@blossom/runtime";
import { decodeCursor, encodeCursor } from "../domain/cursor.js";
import { findProduct, listProducts } from "../store/products-store.js";
import type { InventoryTables } from "../store/tables.js";
import { productNotFound } from "./problems.js";
import { toProductView } from "./product-view.js";
import { ListProductsQuery, ProductPage, ProductParams, ProductView } from "./schemas.js";

/** The public catalog: anyone may browse it. */
export function catalogRoutes(app: App, context: ServiceContext<InventoryTables>): void {
  app.get(
    "/api/inventory/products",
    {
      config: { auth: "public" },
      schema: { querystring: ListProductsQuery, response: { 200: ProductPage } },
    },
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
    { config: { auth: "public" }, schema: { params: ProductParams, response: { 200: ProductView } } },
    async (request) => {
      const row = await findProduct(context.db, request.params.id);
      if (!row) throw productNotFound(request.params.id);
      return toProductView(row);
    },
  );
}
