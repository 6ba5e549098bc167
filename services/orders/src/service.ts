import type { ServiceDefinition } from "@blossom/host";
import { ordersRoutes } from "./api/routes.js";
import { type OrdersSettingsSchema, ordersSettingsSchema } from "./api/settings.js";
import { ordersEvents } from "./events/contracts.js";
import { ordersHandlers } from "./events/handlers.js";
import { startDeadlineSweeper } from "./saga/deadline-sweeper.js";
import { ordersMigrations } from "./store/migrations.js";
import type { OrdersTables } from "./store/tables.js";

export const ordersService: ServiceDefinition<OrdersTables, OrdersSettingsSchema> = {
  name: "orders",
  description: "Orders and the checkout saga (orchestrated here).",
  audited: true,
  migrations: ordersMigrations,
  publishes: ordersEvents,
  consumes: ordersHandlers,
  settings: ordersSettingsSchema,
  routes: ordersRoutes,
  start: (context) => startDeadlineSweeper(context, context.settings.ORDERS_SAGA_SWEEP_INTERVAL_MS),
};
