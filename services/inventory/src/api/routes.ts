import type { ServiceContext } from "@blossom/host";
import type { App } from "@blossom/runtime";
import type { InventoryTables } from "../store/tables.js";
import { adminRoutes } from "./admin-routes.js";
import { catalogRoutes } from "./catalog-routes.js";
import { internalRoutes } from "./internal-routes.js";

export function inventoryRoutes(app: App, context: ServiceContext<InventoryTables>): void {
  catalogRoutes(app, context);
  adminRoutes(app, context);
  internalRoutes(app, context);
}
