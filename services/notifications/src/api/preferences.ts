import { requireUser } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import type { App } from "@blossom/runtime";
import { DEFAULT_PREFERENCES } from "../domain/preferences.js";
import type { NotificationsTables } from "../store/tables.js";
import { findPreferences, savePreferences } from "../store/users-store.js";
import { NotificationPreferences } from "./schemas.js";

/** `GET` and `PUT /api/notifications/preferences`: the caller's own channel choices. */
export function preferencesRoutes(app: App, context: ServiceContext<NotificationsTables>): void {
  app.get(
    "/api/notifications/preferences",
    { config: { auth: "user" }, schema: { response: { 200: NotificationPreferences } } },
    async (request) => {
      const caller = requireUser(request);
      return (await findPreferences(context.db, caller.userId)) ?? DEFAULT_PREFERENCES;
    },
  );

  app.put(
    "/api/notifications/preferences",
    {
      config: { auth: "user" },
      schema: { body: NotificationPreferences, response: { 200: NotificationPreferences } },
    },
    async (request) => {
      const caller = requireUser(request);
      const { email, sms, push } = request.body;
      await savePreferences(context.db, caller.userId, { email, sms, push });
      return { email, sms, push };
    },
  );
}
