import { randomUUID } from "node:crypto";
import { requireUser } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import {
  type App,
  assertWithinBudget,
  HttpProblem,
  problemResponse,
  withResponseHeaders,
} from "@blossom/runtime";
import { isOutcomeUnknown, isUniqueViolation } from "@blossom/store";
import { MAX_ORDER_TOTAL_AMOUNT, orderTotal, requestHash, withinOrderLimit } from "../domain/order-rules.js";
import { OrderPlaced } from "../events/contracts.js";
import {
  countPendingOrders,
  findByIdempotencyKey,
  insertOrder,
  type OrderRow,
} from "../store/orders-store.js";
import type { OrdersTables, StoredOrderLine } from "../store/tables.js";
import { CheckoutAdmission } from "./checkout-admission.js";
import { fetchPrices } from "./inventory-prices.js";
import { toOrderView } from "./order-view.js";
import { IdempotencyHeaders, OrderView, PlaceOrderBody, ReplayedHeader } from "./schemas.js";
import type { OrdersSettingsSchema } from "./settings.js";

const keyReused = () =>
  new HttpProblem({
    status: 422,
    slug: "idempotency-key-reused",
    title: "Idempotency-Key already used for another request",
    detail: "this Idempotency-Key was used with a different body; use a new key for a new order",
  });

const keyRequired = () =>
  new HttpProblem({
    status: 400,
    slug: "idempotency-key-required",
    title: "Idempotency-Key header required",
    detail: "send a unique Idempotency-Key header with every new order, and the same one when retrying it",
  });

/**
 * What `POST /api/orders` answered when it accepted this order: the order as it was then
 * (pending, no cancellation), whatever the saga has done with it since. Every field of that
 * answer is kept in the row unchanged (id, lines, total, creation time), so a replay rebuilds it
 * exactly rather than storing it.
 */
export function acceptedOrderView(row: OrderRow) {
  // As it was when accepted, whatever happened since: a replay answers exactly this.
  return toOrderView({ ...row, status: "pending", saga_step: "reserving", cancellation_reason: null });
}

/**
 * `POST /api/orders`: accepts an order (202, pending) and starts the checkout saga. The
 * `Idempotency-Key` header is required (400 `idempotency-key-required` without one, before the
 * schema's own check): a retry with the same key and body answers exactly what the first
 * request answered, 202 and the same body (with `Idempotent-Replayed: true`), so a retry (the
 * client's or the gateway's own) is indistinguishable from the first answer; the order's state
 * now is `GET /api/orders/:id`'s to tell. The same key with another body is refused (422).
 *
 * A new order is admitted only while fewer than `ORDERS_MAX_PENDING_CHECKOUTS` are pending
 * (`CheckoutAdmission`): past it, 503 `checkouts-shed` with `Retry-After`, before anything is
 * read, asked of inventory or written. The insert itself runs only while the caller's budget
 * lasts (it may have waited for the database connection): past it, 503 and nothing written.
 */
export function registerPlaceOrder(
  app: App,
  context: ServiceContext<OrdersTables, OrdersSettingsSchema>,
): void {
  const admission = new CheckoutAdmission({
    maxPending: context.settings.ORDERS_MAX_PENDING_CHECKOUTS,
    countPending: () => countPendingOrders(context.db),
  });
  app.post(
    "/api/orders",
    {
      config: { auth: "user" },
      schema: {
        body: PlaceOrderBody,
        headers: IdempotencyHeaders,
        response: {
          202: withResponseHeaders(OrderView, ReplayedHeader),
          422: problemResponse(
            "An unknown product (`unknown-product`), or an Idempotency-Key already used with another body (`idempotency-key-reused`)",
          ),
        },
      },
      // After authentication (the instance's preValidation hooks run first), before validation:
      // a missing key gets its own problem type rather than a generic validation error.
      preValidation: async (request) => {
        if (!request.headers["idempotency-key"]) throw keyRequired();
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const key = request.headers["idempotency-key"];
      const hash = requestHash(request.body);
      // The original answer again: same status, same body (as it was then, not the order now).
      const replay = (existing: OrderRow) => {
        if (existing.request_hash !== hash) throw keyReused();
        return reply.code(202).header("idempotent-replayed", "true").send(acceptedOrderView(existing));
      };
      // The saga's backlog is full: refuse now, before reading or writing anything (a replay
      // too: it is answered once the backlog has room, with what the original answered).
      const ticket = await admission.admit();
      // Whether this request wrote the order: it then counts as pending until a count sees it.
      let written = false;
      try {
        const earlier = await findByIdempotencyKey(context.db, user.userId, key);
        if (earlier) return replay(earlier);

        const prices = await fetchPrices(
          context.clients.get("inventory"),
          request.body.items.map((item) => item.productId),
        );
        const items: StoredOrderLine[] = request.body.items.map((item) => {
          const quote = prices.get(item.productId);
          if (!quote) throw HttpProblem.of("unprocessable", `No product ${item.productId}`);
          return { productId: item.productId, quantity: item.quantity, unitPrice: quote.price };
        });
        const total = orderTotal(items);
        if (!withinOrderLimit(total))
          throw new HttpProblem({
            status: 422,
            slug: "order-total-too-large",
            title: "The order total is too large",
            detail: `The order totals ${total.amount} minor units; an order may total at most ${MAX_ORDER_TOTAL_AMOUNT}. Split it into several orders.`,
          });
        const id = randomUUID();
        const deadlineSeconds = context.settings.ORDERS_SAGA_DEADLINE_SECONDS;
        let created: OrderRow;
        // The prices came from inventory: if that took the rest of the caller's budget, refuse now
        // (503, nothing written) rather than place an order the caller no longer waits for.
        assertWithinBudget();
        const deadline = new Date(Date.now() + deadlineSeconds * 1000);
        try {
          created = await context.transaction(async (trx) => {
            // The connection may have been a queue of its own (PGlite has one): write only if the
            // caller still waits, otherwise this rolls back (nothing written) and answers 503.
            assertWithinBudget();
            const row = await insertOrder(trx, {
              id,
              userId: user.userId,
              items,
              totalAmount: total.amount,
              paymentMethodId: request.body.paymentMethodId,
              shippingAddress: request.body.shippingAddress,
              idempotencyKey: key,
              requestHash: hash,
              deadline,
            });
            await context.outbox.add(trx, OrderPlaced, id, {
              orderId: id,
              userId: user.userId,
              items,
              total,
              paymentMethodId: request.body.paymentMethodId,
              deadline: deadline.toISOString(),
            });
            return row;
          });
          written = true;
        } catch (error) {
          // The commit may have happened: count it as pending, to be safe.
          if (isOutcomeUnknown(error)) written = true;
          // Two retries raced: the other one created the order; answer it.
          if (isUniqueViolation(error)) {
            const winner = await findByIdempotencyKey(context.db, user.userId, key);
            if (winner) return replay(winner);
          }
          throw error;
        }
        return reply.code(202).send(acceptedOrderView(created));
      } finally {
        ticket.release(written);
      }
    },
  );
}
