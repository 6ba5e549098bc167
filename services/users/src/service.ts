import type { ServiceDefinition } from "@blossom/host";
import { usersRoutes } from "./api/routes.js";
import { usersEvents } from "./events/contracts.js";
import { usersMigrations } from "./store/migrations.js";
import type { UsersTables } from "./store/tables.js";

export const usersService: ServiceDefinition<UsersTables> = {
  name: "users",
  description: "Accounts, authentication and roles.",
  migrations: usersMigrations,
  publishes: usersEvents,
  routes: usersRoutes,
};
