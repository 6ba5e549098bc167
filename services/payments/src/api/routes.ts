import type { ServiceContext } from "@blossom/host";
import type { App } from "@blossom/runtime";
import type { PaymentsTables } from "../store/tables.js";
import { type MethodsRoutesOptions, paymentMethodsRoutes } from "./methods-routes.js";
import { paymentRecordsRoutes } from "./payments-routes.js";

export function paymentsRoutes(
  app: App,
  context: ServiceContext<PaymentsTables>,
  options: MethodsRoutesOptions,
): void {
  paymentMethodsRoutes(app, context, options);
  paymentRecordsRoutes(app, context);
}
