import type { ServiceDefinition } from "@blossom/host";
import { routes } from "./api/routes.js";
import { usersEvents } from "./events/contracts.js";
import { checkUsersProduction, type UsersSettingsSchema, usersSettings } from "./settings.js";
import { seedAdmin } from "./store/admin-seed.js";
import { usersMigrations } from "./store/migrations.js";
import type { UsersTables } from "./store/tables.js";

export const usersService: ServiceDefinition<UsersTables, UsersSettingsSchema> = {
  name: "users",
  description: "Accounts, authentication and roles.",
  audited: true,
  migrations: usersMigrations,
  publishes: usersEvents,
  settings: usersSettings,
  checkProduction: checkUsersProduction,
  routes,
  seed: seedAdmin,
};
