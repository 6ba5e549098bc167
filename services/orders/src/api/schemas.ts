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
      description: `RFC 7240 preferences. \`wait=N\`: while the order is pending, answer once it is confirmed or cancelled, or after N seconds (at most ${MAX_ORDER_WAIT_SECONDS}), whichever comes first; \`Preference-Applied\` says when it was honoured. Saves polling.`,
    }),
  ),
});

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
