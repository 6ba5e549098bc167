import { randomUUID } from "node:crypto";
import { requireAdmin } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem, problemResponse } from "@blossom/runtime";
import { isCheckViolation } from "@blossom/store";
import { MAX_STOCK, planStockAdjustment } from "../domain/stock.js";
import { ProductCreated } from "../events/contracts.js";
import { recordAdminChange } from "../store/audit-store.js";
import { findProduct, insertProduct, type ProductChanges, updateProduct } from "../store/products-store.js";
import { lockProducts, setStock } from "../store/stock-store.js";
import type { InventoryTables } from "../store/tables.js";
import { insufficientStock, productNotFound, skuTaken, stockLimit } from "./problems.js";
import { toAdminProductView } from "./product-view.js";
import {
  AdjustStockBody,
  AdminProductView,
  CreateProductBody,
  ProductParams,
  UpdateProductBody,
} from "./schemas.js";

/**
 * Catalog writes, for admins only (401 without a token, 403 for a customer). Each write and its
 * `admin_changes` record commit together.
 */
export function adminRoutes(app: App, context: ServiceContext<InventoryTables>): void {
  app.post(
    "/api/inventory/products",
    {
      config: { auth: "admin" },
      schema: {
        body: CreateProductBody,
        response: {
          201: AdminProductView,
          409: problemResponse("A product with this SKU exists (`sku-taken`)"),
        },
      },
    },
    async (request, reply) => {
      const admin = requireAdmin(request);
      // `description` is optional, "" when left out (the schema's default fills it in).
      const { sku, name, description = "", category, price, stock } = request.body;
      const id = randomUUID();
      const created = await context.transaction(async (trx) => {
        const row = {
          id,
          sku,
          name,
          description,
          category,
          price_amount: price.amount,
          currency: price.currency,
          stock,
        };
        if (!(await insertProduct(trx, row))) return undefined;
        await context.outbox.add(trx, ProductCreated, id, {
          productId: id,
          sku,
          name,
          category,
          price,
          stock,
        });
        await recordAdminChange(trx, {
          actorId: admin.userId,
          action: "product.created",
          productId: id,
          details: { sku, name, description, category, price, stock },
        });
        return findProduct(trx, id);
      });
      if (!created) throw skuTaken(sku);
      return reply.code(201).send(toAdminProductView(created));
    },
  );

  app.patch(
    "/api/inventory/products/:id",
    {
      config: { auth: "admin" },
      schema: { params: ProductParams, body: UpdateProductBody, response: { 200: AdminProductView } },
    },
    async (request) => {
      const admin = requireAdmin(request);
      const { id } = request.params;
      const { name, description, category, price } = request.body;
      const changes: ProductChanges = {
        ...(name === undefined ? {} : { name }),
        ...(description === undefined ? {} : { description }),
        ...(category === undefined ? {} : { category }),
        ...(price === undefined ? {} : { price_amount: price.amount, currency: price.currency }),
      };
      if (Object.keys(changes).length === 0) {
        throw HttpProblem.of("validation", "give at least one of name, description, category, price");
      }
      const updated = await context.transaction(async (trx) => {
        if (!(await updateProduct(trx, id, changes))) return undefined;
        await recordAdminChange(trx, {
          actorId: admin.userId,
          action: "product.updated",
          productId: id,
          details: { name, description, category, price },
        });
        return findProduct(trx, id);
      });
      if (!updated) throw productNotFound(id);
      return toAdminProductView(updated);
    },
  );

  app.post(
    "/api/inventory/products/:id/stock",
    {
      config: { auth: "admin" },
      schema: {
        params: ProductParams,
        body: AdjustStockBody,
        response: {
          200: AdminProductView,
          409: problemResponse(
            "The stock would fall below the units reserved for orders (`insufficient-stock`)",
          ),
          422: problemResponse(`The stock would exceed the limit of ${MAX_STOCK} units (\`unprocessable\`)`),
        },
      },
    },
    async (request) => {
      const admin = requireAdmin(request);
      const { id } = request.params;
      const { delta } = request.body;
      const adjusted = await context
        .transaction(async (trx) => {
          const level = (await lockProducts(trx, [id])).get(id);
          if (!level) return undefined;
          const plan = planStockAdjustment(level, delta);
          if (plan.outcome === "below-reserved") throw insufficientStock(plan.stock, plan.reserved, delta);
          if (plan.outcome === "above-limit") throw stockLimit(plan.requested, MAX_STOCK);
          await setStock(trx, id, plan.stock);
          await recordAdminChange(trx, {
            actorId: admin.userId,
            action: "stock.adjusted",
            productId: id,
            details: { delta, before: level.stock, after: plan.stock, reserved: level.reserved },
          });
          return findProduct(trx, id);
        })
        .catch(async (error: unknown) => {
          // The CHECK (reserved <= stock) is the last guard; the plan above should have said so first.
          if (!isCheckViolation(error)) throw error;
          const product = await findProduct(context.db, id);
          const stock = product?.stock ?? 0;
          throw insufficientStock(stock, stock - (product?.available ?? 0), delta);
        });
      if (!adjusted) throw productNotFound(id);
      return toAdminProductView(adjusted);
    },
  );
}
