import type { ServiceDefinition } from "@blossom/host";
import { paymentsRoutes } from "./api/routes.js";
import { paymentsEvents } from "./events/contracts.js";
import { paymentsHandlers } from "./events/handlers.js";
import { paymentsMigrations } from "./store/migrations.js";
import type { PaymentsTables } from "./store/tables.js";

export const paymentsService: ServiceDefinition<PaymentsTables> = {
  name: "payments",
  description: "Payment methods; authorize, capture and refund.",
  migrations: paymentsMigrations,
  publishes: paymentsEvents,
  consumes: paymentsHandlers,
  routes: paymentsRoutes,
};
