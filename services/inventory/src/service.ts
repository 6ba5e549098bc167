import type { ServiceDefinition } from "@blossom/host";
import { inventoryRoutes } from "./api/routes.js";
import { inventoryEvents } from "./events/contracts.js";
import { inventoryMigrations } from "./store/migrations.js";
import { seedDemoCatalog } from "./store/seed.js";
import type { InventoryTables } from "./store/tables.js";

export const inventoryService: ServiceDefinition<InventoryTables> = {
  name: "inventory",
  description: "Catalog, pricing, stock and reservations.",
  migrations: inventoryMigrations,
  publishes: inventoryEvents,
  routes: inventoryRoutes,
  seed: seedDemoCatalog,
};
