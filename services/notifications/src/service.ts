import type { ServiceDefinition } from "@blossom/host";
import { notificationsRoutes } from "./api/routes.js";
import { notificationsEvents } from "./events/contracts.js";
import { notificationsHandlers } from "./events/handlers.js";
import { notificationsMigrations } from "./store/migrations.js";
import type { NotificationsTables } from "./store/tables.js";

export const notificationsService: ServiceDefinition<NotificationsTables> = {
  name: "notifications",
  description: "Email, sms and push notifications.",
  migrations: notificationsMigrations,
  publishes: notificationsEvents,
  consumes: notificationsHandlers,
  routes: notificationsRoutes,
};
