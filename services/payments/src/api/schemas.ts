import { Type } from "@sinclair/typebox";
import { Money } from "../events/contracts.js";

/**
 * POST /api/payments/methods. Only types and ranges are checked here (a month 1-12, a four-digit
 * year); what makes a card acceptable (digits, Luhn, expiry, cvc) is `domain/card.ts`, which names
 * the field in its 400.
 */
export const CreatePaymentMethodBody = Type.Object({
  cardNumber: Type.String({ maxLength: 32 }),
  expMonth: Type.Integer({ minimum: 1, maximum: 12 }),
  expYear: Type.Integer({ minimum: 1000, maximum: 9999 }),
  cvc: Type.String({ maxLength: 8 }),
});

/**
 * POST /api/payments/methods: an optional Idempotency-Key (1 to 255 visible ASCII characters,
 * `domain/idempotency.ts`); a retry with the same key and card answers the method it saved.
 */
export const CreatePaymentMethodHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: "^[!-~]+$",
      description:
        "Optional. The same key with the same card answers the method saved the first time (201, `Idempotent-Replayed: true`); with another card, 422 `idempotency-key-reused`.",
    }),
  ),
});

/** Header of an answer that replays what an earlier request with the same Idempotency-Key did. */
export const ReplayedHeader = {
  "Idempotent-Replayed": {
    type: "string",
    enum: ["true"],
    description: "`true`: this is the method an earlier request with the same Idempotency-Key saved.",
  },
};

export const CardBrand = Type.Union(
  ["visa", "mastercard", "amex", "discover", "diners", "jcb", "unionpay", "unknown"].map((brand) =>
    Type.Literal(brand),
  ),
);

/** A saved card as clients see it: never the number, never the cvc. */
export const PaymentMethodView = Type.Object({
  id: Type.String(),
  brand: CardBrand,
  last4: Type.String(),
  expMonth: Type.Integer(),
  expYear: Type.Integer(),
});

export const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});

export const PaymentMethodPage = Type.Object({
  items: Type.Array(PaymentMethodView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const PaymentStatus = Type.Union(
  ["pending", "authorized", "captured", "refunded", "voided", "declined"].map((status) =>
    Type.Literal(status),
  ),
);

export const PaymentView = Type.Object({
  id: Type.String(),
  orderId: Type.String(),
  userId: Type.String(),
  paymentMethodId: Type.String(),
  amount: Money,
  status: PaymentStatus,
  declineReason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: "date-time" }),
  updatedAt: Type.String({ format: "date-time" }),
});

export const PaymentsQuery = Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 100 }) });

/** One payment per order, so one page holds them all: `nextCursor` is always null. */
export const PaymentList = Type.Object({
  items: Type.Array(PaymentView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
