import { requireService } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem } from "@blossom/runtime";
import { findPrices } from "../store/products-store.js";
import type { InventoryTables } from "../store/tables.js";
import { MAX_PRICE_IDS, PriceList, PriceQuery } from "./schemas.js";

/** The services that may read prices in bulk: orders prices every order from here. */
const PRICE_READERS = ["orders"] as const;

/**
 * Routes for other services only: not under `/api`, so the gateway never routes them (nor
 * lists them in the platform's OpenAPI document; they stay in inventory's own). Each one wants
 * a service token of a service it names: 401 without a token or with a user's, 403 for a
 * service it does not name.
 */
export function internalRoutes(app: App, context: ServiceContext<InventoryTables>): void {
  app.get(
    "/internal/inventory/prices",
    {
      config: { auth: "service" },
      schema: {
        description: "Current prices of many products at once, for the orders service (service token).",
        querystring: PriceQuery,
        response: { 200: PriceList },
      },
    },
    async (request) => {
      requireService(request, PRICE_READERS);
      const ids = [...new Set(request.query.ids.split(","))];
      if (ids.some((id) => id === "" || id.length > 100) || ids.length > MAX_PRICE_IDS) {
        throw HttpProblem.of(
          "validation",
          `ids must be up to ${MAX_PRICE_IDS} comma-separated product ids of 1 to 100 characters`,
        );
      }
      const rows = await findPrices(context.db, ids);
      return {
        items: rows.map((row) => ({
          id: row.id,
          price: { amount: row.price_amount, currency: "USD" as const },
        })),
      };
    },
  );
}
