import { Type } from "@sinclair/typebox";
import { Money, OrderLine } from "../events/contracts.js";

export const PlaceOrderBody = Type.Object({
  items: Type.Array(
    Type.Object({
      productId: Type.String({ minLength: 1, maxLength: 100 }),
      quantity: Type.Integer({ minimum: 1, maximum: 100 }),
    }),
    { minItems: 1, maxItems: 50 },
  ),
  paymentMethodId: Type.String({ minLength: 1, maxLength: 100 }),
  shippingAddress: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 200 }),
    line1: Type.String({ minLength: 1, maxLength: 200 }),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    postalCode: Type.String({ minLength: 1, maxLength: 20 }),
    country: Type.String({
      minLength: 2,
      maxLength: 2,
      pattern: "^[A-Za-z]{2}$",
      description: "ISO 3166-1 alpha-2",
    }),
  }),
});

/** `POST /api/orders` takes no order without a key (400 `idempotency-key-required`). */
export const IdempotencyHeaders = Type.Object({
  "idempotency-key": Type.String({
    minLength: 1,
    maxLength: 200,
    description:
      "A new unique key for each new order, and the same one when retrying it: a retry answers exactly what the first request answered (202 and the same body, with `Idempotent-Replayed: true`), even when that first answer was lost (a 504 `outcome-unknown`).",
  }),
});

/** Header of an answer that replays what an earlier request with the same Idempotency-Key did. */
export const ReplayedHeader = {
  "Idempotent-Replayed": {
    type: "string",
    enum: ["true"],
    description:
      "`true`: this answer replays the one an earlier request with the same Idempotency-Key got (same status and body): the order it placed, as it was then.",
  },
};

/** The longest a `GET /api/orders/:id` with `Prefer: wait` holds its answer. */
export const MAX_ORDER_WAIT_SECONDS = 10;

export const WaitHeaders = Type.Object({
  prefer: Type.Optional(
    Type.String({
      maxLength: 200,
      description: `RFC 7240 preferences. \`wait=N\`: while the order is pending, answer once it is confirmed or cancelled (with \`If-None-Match\`: once it changes at all, a step of the checkout included), or after N seconds (at most ${MAX_ORDER_WAIT_SECONDS}), whichever comes first; \`Preference-Applied\` says when it was honoured. Saves polling.`,
    }),
  ),
  "if-none-match": Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        "The `ETag` of the order as the client has it: answered 304 while it is unchanged; with `Prefer: wait=N`, held until it changes (a checkout step, the outcome) or N seconds pass. A page follows a checkout live this way, step by step.",
    }),
  ),
});

/** The `ETag` of a `GET /api/orders/:id` answer: it changes with the status and the checkout's step. */
export const OrderETagHeader = {
  ETag: {
    type: "string",
    description:
      "Changes whenever the order's status or checkout step does (send it back as `If-None-Match`).",
  },
};

/** Header of a `GET /api/orders/:id` that waited as `Prefer: wait` asked. */
export const PreferenceAppliedHeader = {
  "Preference-Applied": {
    type: "string",
    pattern: "^wait=[0-9]+$",
    description: `\`wait=N\`: the answer was held (up to N seconds, at most ${MAX_ORDER_WAIT_SECONDS}) until the pending order settled, as \`Prefer: wait=N\` asked.`,
  },
};

export const OrderStatus = Type.Union([
  Type.Literal("pending"),
  Type.Literal("confirmed"),
  Type.Literal("cancelled"),
]);

export const OrderView = Type.Object({
  id: Type.String(),
  status: OrderStatus,
  items: Type.Array(OrderLine),
  total: Money,
  cancellationReason: Type.Optional(Type.String()),
  step: Type.Optional(
    Type.Union([Type.Literal("reserving-stock"), Type.Literal("authorizing-payment")], {
      description: "While the order is pending: where its checkout is (stock first, then the payment).",
    }),
  ),
  history: Type.Optional(
    Type.Array(Type.Object({ status: OrderStatus, at: Type.String({ format: "date-time" }) })),
  ),
  createdAt: Type.Optional(Type.String({ format: "date-time" })),
});

export const OrderParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const ListOrdersQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  all: Type.Optional(Type.Boolean()),
});

export const OrderPage = Type.Object({
  items: Type.Array(OrderView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

/** `GET /api/orders/sagas` (admins): which checkouts to list. */
export const SagasQuery = Type.Object({
  status: Type.Optional(OrderStatus),
  overdue: Type.Optional(
    Type.Boolean({ description: "Only the pending orders whose saga deadline has passed" }),
  ),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});

/** One checkout saga as an operator sees it: where it is, by when it must settle, how it got there. */
export const SagaView = Type.Object({
  id: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()]),
  status: OrderStatus,
  step: Type.Union([
    Type.Literal("reserving"),
    Type.Literal("authorizing"),
    Type.Literal("done"),
    Type.Null(),
  ]),
  deadline: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  overdue: Type.Boolean({ description: "Pending past its deadline (the sweeper cancels it soon)" }),
  total: Money,
  itemCount: Type.Integer({ minimum: 0 }),
  cancellationReason: Type.Optional(Type.String()),
  createdAt: Type.String({ format: "date-time" }),
  updatedAt: Type.String({ format: "date-time" }),
  history: Type.Array(Type.Object({ status: OrderStatus, at: Type.String({ format: "date-time" }) })),
});

export const SagaPage = Type.Object({
  counts: Type.Object({
    pending: Type.Integer({ minimum: 0 }),
    confirmed: Type.Integer({ minimum: 0 }),
    cancelled: Type.Integer({ minimum: 0 }),
    overdue: Type.Integer({ minimum: 0 }),
  }),
  items: Type.Array(SagaView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
