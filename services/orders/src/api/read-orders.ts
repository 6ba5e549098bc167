import { requireUser } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem } from "@blossom/runtime";
import { findOrder, listOrders, orderHistory } from "../store/orders-store.js";
import type { OrdersTables } from "../store/tables.js";
import { decodeOrderCursor, encodeOrderCursor } from "./order-cursor.js";
import { toOrderView } from "./order-view.js";
import { ListOrdersQuery, OrderPage, OrderParams, OrderView } from "./schemas.js";

/** `GET /api/orders/:id` (owner or admin; anyone else gets 404) and `GET /api/orders` (the caller's, newest first). */
export function registerReadOrders(app: App, context: ServiceContext<OrdersTables>): void {
  app.get(
    "/api/orders/:id",
    { config: { auth: "user" }, schema: { params: OrderParams, response: { 200: OrderView } } },
    async (request) => {
      const user = requireUser(request);
      const row = await findOrder(context.db, request.params.id);
      // Someone else's order is answered exactly like a missing one: its existence is not disclosed.
      if (!row || (row.user_id !== user.userId && user.role !== "admin")) {
        throw HttpProblem.of("notFound", `No order ${request.params.id}`);
      }
      return toOrderView(row, await orderHistory(context.db, row.id));
    },
  );

  app.get(
    "/api/orders",
    { config: { auth: "user" }, schema: { querystring: ListOrdersQuery, response: { 200: OrderPage } } },
    async (request) => {
      const user = requireUser(request);
      const { limit, cursor, all } = request.query;
      if (all && user.role !== "admin") throw HttpProblem.of("forbidden", "all=true needs the admin role");
      const after = cursor === undefined ? undefined : decodeOrderCursor(cursor);
      if (cursor !== undefined && !after) throw HttpProblem.of("validation", "cursor is not valid");
      const rows = await listOrders(context.db, {
        ...(all ? {} : { userId: user.userId }),
        limit,
        ...(after ? { after } : {}),
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => toOrderView(row)),
        nextCursor: rows.length > limit && last ? encodeOrderCursor(last.created_at, last.id) : null,
      };
    },
  );
}
