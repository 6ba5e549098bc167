/**
 * The API's own types, derived from the TypeBox schemas that validate and serialize each route
 * (services/<name>/src/api/schemas.ts): type-only imports, erased by the build, so the shop
 * ships none of the services' code and a schema change breaks the shop's type-check, not its
 * users. Never hand-copy an interface of the API here.
 */
import type { Static } from "@sinclair/typebox";
import type { AuditPage } from "../../../../packages/host/src/audit/audit-schemas.js";
import type {
  AdjustStockBody,
  AdminProductView,
  CreateProductBody,
  ProductPage,
  ProductView,
  UpdateProductBody,
} from "../../../../services/inventory/src/api/schemas.js";
import type {
  NotificationList,
  NotificationPreferences,
  NotificationView,
} from "../../../../services/notifications/src/api/schemas.js";
import type { OrderPage, OrderView, PlaceOrderBody } from "../../../../services/orders/src/api/schemas.js";
import type {
  CreatePaymentMethodBody,
  PaymentList,
  PaymentMethodPage,
  PaymentMethodView,
  PaymentView,
} from "../../../../services/payments/src/api/schemas.js";
import type {
  RegisterUserBody,
  TokenPairView,
  UserView,
} from "../../../../services/users/src/api/schemas.js";

export type Product = Static<typeof ProductView>;
export type ProductList = Static<typeof ProductPage>;
export type Order = Static<typeof OrderView>;
export type OrderList = Static<typeof OrderPage>;
export type PlaceOrder = Static<typeof PlaceOrderBody>;
export type ShippingAddress = PlaceOrder["shippingAddress"];
export type PaymentMethod = Static<typeof PaymentMethodView>;
export type PaymentMethodList = Static<typeof PaymentMethodPage>;
export type NewCard = Static<typeof CreatePaymentMethodBody>;
export type Payment = Static<typeof PaymentView>;
export type Payments = Static<typeof PaymentList>;
export type Notification = Static<typeof NotificationView>;
export type Notifications = Static<typeof NotificationList>;
export type Preferences = Static<typeof NotificationPreferences>;
export type User = Static<typeof UserView>;
export type SignUp = Static<typeof RegisterUserBody>;
export type TokenPair = Static<typeof TokenPairView>;
export type Money = Product["price"];
export type AdminProduct = Static<typeof AdminProductView>;
export type NewProduct = Static<typeof CreateProductBody>;
export type ProductChanges = Static<typeof UpdateProductBody>;
export type StockAdjustment = Static<typeof AdjustStockBody>;
export type AuditLog = Static<typeof AuditPage>;
export type AuditRecord = AuditLog["items"][number];

/** An RFC 9457 problem as the platform answers it (packages/runtime/src/problem.ts). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: Array<{ in?: string; pointer?: string; message?: string; missing?: string }>;
  /** A problem type's own members (`insufficient-stock`: `stock`, `reserved`, `available`). */
  [extension: string]: unknown;
}
