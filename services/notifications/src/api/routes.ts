import type { ServiceContext } from "@blossom/host";
import type { App } from "@blossom/runtime";
import type { NotificationsTables } from "../store/tables.js";
import { listNotificationsRoute } from "./list-notifications.js";
import { mailboxRoute } from "./mailbox.js";
import { preferencesRoutes } from "./preferences.js";

export function notificationsRoutes(app: App, context: ServiceContext<NotificationsTables>): void {
  listNotificationsRoute(app, context);
  mailboxRoute(app, context);
  preferencesRoutes(app, context);
}
