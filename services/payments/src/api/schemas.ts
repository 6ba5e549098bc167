import { Type } from "@sinclair/typebox";

export const PaymentView = Type.Object({
  id: Type.String(),
  orderId: Type.String(),
  amount: Type.Object({ amount: Type.Integer(), currency: Type.Literal("USD") }),
  status: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
});

export const PaymentsQuery = Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 100 }) });

export const PaymentList = Type.Object({ items: Type.Array(PaymentView), nextCursor: Type.Null() });
