import type { ServiceContext } from "@blossom/host";
import type { App } from "@blossom/runtime";
import type { OrdersTables } from "../store/tables.js";
import { registerCancelOrder } from "./cancel-order.js";
import { registerPlaceOrder } from "./place-order.js";
import { registerReadOrders } from "./read-orders.js";
import { registerReadSagas } from "./read-sagas.js";
import type { OrdersSettingsSchema } from "./settings.js";

export function ordersRoutes(app: App, context: ServiceContext<OrdersTables, OrdersSettingsSchema>): void {
  registerPlaceOrder(app, context);
  registerReadOrders(app, context);
  registerReadSagas(app, context);
  registerCancelOrder(app, context);
}
