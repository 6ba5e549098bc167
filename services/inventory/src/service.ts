import type { ServiceDefinition } from "@blossom/host";
import { inventoryRoutes } from "./api/routes.js";
import { inventoryEvents } from "./events/contracts.js";
import { inventoryHandlers } from "./events/handlers.js";
import { startExpirySweep } from "./expiry-sweeper.js";
import { type InventorySettingsSchema, inventorySettings } from "./settings.js";
import { inventoryMigrations } from "./store/migrations.js";
import { seedDemoCatalog } from "./store/seed.js";
import type { InventoryTables } from "./store/tables.js";

export const inventoryService: ServiceDefinition<InventoryTables, InventorySettingsSchema> = {
  name: "inventory",
  description: "Catalog, pricing, stock and reservations.",
  audited: true,
  migrations: inventoryMigrations,
  publishes: inventoryEvents,
  consumes: inventoryHandlers,
  settings: inventorySettings,
  routes: inventoryRoutes,
  start: startExpirySweep,
  seed: seedDemoCatalog,
};
