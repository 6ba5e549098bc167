import { requireUser } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import {
  type App,
  HttpProblem,
  noContentResponse,
  preferredWaitSeconds,
  problemResponse,
  withResponseHeaders,
} from "@blossom/runtime";
import { pendingOrderWatch } from "../saga/pending-order-watch.js";
import { findOrder, listOrders, orderHistory } from "../store/orders-store.js";
import type { OrdersTables } from "../store/tables.js";
import { decodeOrderCursor, encodeOrderCursor } from "./order-cursor.js";
import { orderETag, toOrderView } from "./order-view.js";
import {
  ListOrdersQuery,
  MAX_ORDER_WAIT_SECONDS,
  OrderETagHeader,
  OrderPage,
  OrderParams,
  OrderView,
  PreferenceAppliedHeader,
  WaitHeaders,
} from "./schemas.js";

/**
 * `GET /api/orders/:id` (owner or admin; anyone else gets 404) and `GET /api/orders` (the caller's,
 * newest first). With `Prefer: wait=N`, a pending order's answer is held until it settles or N
 * seconds (at most MAX_ORDER_WAIT_SECONDS) pass: a client learns the outcome of its checkout in
 * one request, at once, instead of polling.
 */
export function registerReadOrders(app: App, context: ServiceContext<OrdersTables>): void {
  const watch = pendingOrderWatch(context);
  // A held request must not keep a stopping server open: it is answered with what there is.
  // The watch's query in flight, if any, is awaited once the server has closed (onClose), so
  // none outlives the service into its closed database.
  let watchClosed: Promise<void> | undefined;
  app.addHook("preClose", (done) => {
    watchClosed = watch.close();
    done();
  });
  app.addHook("onClose", async () => {
    await watchClosed;
  });

  app.get(
    "/api/orders/:id",
    {
      config: { auth: "user" },
      schema: {
        params: OrderParams,
        headers: WaitHeaders,
        response: {
          200: withResponseHeaders(OrderView, { ...PreferenceAppliedHeader, ...OrderETagHeader }),
          304: withResponseHeaders(
            noContentResponse(
              "The order is as the client's `If-None-Match` has it (after the wait asked for, if any).",
            ),
            { ...PreferenceAppliedHeader, ...OrderETagHeader },
          ),
        },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const visible = async () => {
        const row = await findOrder(context.db, request.params.id);
        // Someone else's order is answered exactly like a missing one: its existence is not disclosed.
        if (!row || (row.user_id !== user.userId && user.role !== "admin")) {
          throw HttpProblem.of("notFound", `No order ${request.params.id}`);
        }
        return row;
      };
      let row = await visible();
      const wait = Math.min(preferredWaitSeconds(request.headers.prefer) ?? 0, MAX_ORDER_WAIT_SECONDS);
      // The ETag the client has, if it sent one: then any change (a checkout step too) answers.
      const seen = request.headers["if-none-match"];
      const unchanged = () => seen !== undefined && orderETag(row) === seen;
      if (row.status === "pending" && wait > 0 && (seen === undefined || unchanged())) {
        const gone = new AbortController();
        const onClose = () => gone.abort();
        reply.raw.once("close", onClose);
        const held = watch.wait(row.id, wait * 1000, gone.signal, seen);
        if (held) {
          await held;
          reply.raw.off("close", onClose);
          reply.header("preference-applied", `wait=${wait}`);
          row = await visible();
        }
      }
      reply.header("etag", orderETag(row));
      if (unchanged()) return reply.code(304).send();
      return toOrderView(row, await orderHistory(context.db, row.id));
    },
  );

  app.get(
    "/api/orders",
    {
      config: { auth: "user" },
      schema: {
        querystring: ListOrdersQuery,
        response: { 200: OrderPage, 403: problemResponse("`all=true` without the admin role") },
      },
    },
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
