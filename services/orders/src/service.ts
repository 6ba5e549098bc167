import type { ServiceDefinition } from "@blossom/host";
import { ordersRoutes } from "./api/routes.js";
import { ordersEvents } from "./events/contracts.js";
import { ordersMigrations } from "./store/migrations.js";
import type { OrdersTables } from "./store/tables.js";

export const ordersService: ServiceDefinition<OrdersTables> = {
  name: "orders",
  description: "Orders and the checkout saga.",
  migrations: ordersMigrations,
  publishes: ordersEvents,
  routes: ordersRoutes,
};
