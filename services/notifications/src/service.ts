import type { ServiceDefinition } from "@blossom/host";
import { notificationsRoutes } from "./api/routes.js";
import { createDispatcher } from "./dispatcher.js";
import { notificationsEvents } from "./events/contracts.js";
import { notificationsHandlers } from "./events/handlers.js";
import { type NotificationsSettingsSchema, notificationsSettings } from "./settings.js";
import { notificationsMigrations } from "./store/migrations.js";
import type { NotificationsTables } from "./store/tables.js";

export const notificationsService: ServiceDefinition<NotificationsTables, NotificationsSettingsSchema> = {
  name: "notifications",
  description: "Email, sms and push notifications.",
  migrations: notificationsMigrations,
  publishes: notificationsEvents,
  consumes: notificationsHandlers,
  audited: true,
  settings: notificationsSettings,
  routes: notificationsRoutes,
  /** The delivery loop: started after the service listens, stopped before it closes its database. */
  start: (context) => createDispatcher(context).start(),
};
