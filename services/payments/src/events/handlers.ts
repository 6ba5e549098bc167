import { randomUUID } from "node:crypto";
import { type EventContract, isNonRetryable } from "@blossom/bus";
import { type EventBinding, on, recordAudit, type ServiceContext } from "@blossom/host";
import { OrderCancelled, OrderConfirmed, PaymentRequested } from "@blossom/orders-contracts";
import type { Static, TObject } from "@sinclair/typebox";
import { isExpired } from "../domain/card.js";
import { type PaymentProvider, providerKey } from "../domain/payment-provider.js";
import {
  compensationFor,
  type DeclineReason,
  type PaymentStatus,
  transition,
} from "../domain/payment-state.js";
import { findPaymentMethod } from "../store/methods-store.js";
import {
  insertPayment,
  isCancelled,
  type PaymentRow,
  type PaymentsDb,
  paymentOfOrderForUpdate,
  recordCancellation,
  updatePayment,
} from "../store/payments-store.js";
import type { PaymentsTables } from "../store/tables.js";
import {
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentRefunded,
  PaymentVoided,
} from "./contracts.js";

type Context = ServiceContext<PaymentsTables>;

export interface PaymentsHandlersOptions {
  /** The provider of a running service (one per host). */
  providerOf(context: Context): PaymentProvider;
  now?: () => Date;
}

/**
 * The payments side of the checkout saga. Each handler runs inside the inbox transaction, so
 * its effect (payment row + outgoing event) commits once per event id; the payment row per order
 * (unique `order_id`) and the status machine make a second event for the same order (another
 * event id) a no-op; and every provider call carries a key derived from the order id, so a
 * retry after a crash between the provider call and the commit moves no money twice.
 */
export function paymentsHandlers(options: PaymentsHandlersOptions): EventBinding<PaymentsTables>[] {
  const now = options.now ?? (() => new Date());

  /**
   * What the provider just did to an order's payment (a capture, void or refund), recorded in the
   * handler's transaction: the guarded transition with the provider's id on the row, then the
   * event that tells the saga.
   */
  const recordStep = async <S extends TObject>(
    { trx, context }: { trx: PaymentsDb; context: Context },
    payment: PaymentRow,
    step: { to: PaymentStatus } & Partial<Pick<PaymentRow, "capture_id" | "void_id" | "refund_id">>,
    event: EventContract<S>,
    data: Static<S>,
  ) => {
    const { to, ...providerIds } = step;
    await updatePayment(trx, payment.id, {
      status: transition(payment.status, to),
      ...providerIds,
      updated_at: now(),
    });
    await context.outbox.add(trx, event, payment.order_id, data);
  };

  return [
    on<PaymentsTables, typeof PaymentRequested.schema>(
      PaymentRequested,
      async ({ data, envelope, trx, context, attempt, maxAttempts }) => {
        const log = context.logger.child({ order_id: data.orderId, event_id: envelope.id });
        // Orders cancels the order at its deadline: authorizing now would only be voided then.
        if (data.deadline !== undefined && Date.parse(data.deadline) <= now().getTime()) {
          log.info("payment requested past the checkout deadline: nothing authorized");
          return;
        }
        if (await isCancelled(trx, data.orderId)) {
          log.info("payment requested for a cancelled order: ignored, nothing charged");
          return;
        }
        const existing = await paymentOfOrderForUpdate(trx, data.orderId);
        if (existing) {
          log.info(
            { payment_id: existing.id, status: existing.status },
            "payment already decided for this order",
          );
          return;
        }
        const provider = options.providerOf(context);
        const at = now();
        const payment = {
          id: randomUUID(),
          order_id: data.orderId,
          user_id: data.userId,
          payment_method_id: data.paymentMethodId,
          provider: provider.name,
          amount: data.amount.amount,
          currency: data.amount.currency,
          authorization_id: null,
          capture_id: null,
          refund_id: null,
          void_id: null,
          created_at: at,
          updated_at: at,
        };
        const decline = async (reason: DeclineReason) => {
          await insertPayment(trx, {
            ...payment,
            status: transition("pending", "declined"),
            decline_reason: reason,
          });
          await context.outbox.add(trx, PaymentDeclined, data.orderId, {
            orderId: data.orderId,
            paymentId: payment.id,
            reason,
          });
          log.info({ payment_id: payment.id, reason }, "payment declined");
        };

        const method = await findPaymentMethod(trx, data.paymentMethodId);
        if (!method || method.user_id !== data.userId || method.provider !== provider.name) {
          return decline("unknown_payment_method");
        }
        if (isExpired(method.exp_month, method.exp_year, at)) return decline("declined");

        let result: Awaited<ReturnType<PaymentProvider["authorize"]>>;
        try {
          result = await provider.authorize(
            method.token,
            data.amount,
            providerKey("authorize", data.orderId),
          );
        } catch (error) {
          if (attempt < maxAttempts && !isNonRetryable(error)) {
            // Nothing of this attempt commits (the inbox transaction rolls back); the bus
            // redelivers after its backoff, and the provider's key keeps the retry safe.
            throw error;
          }
          // The bus's last attempt (or an error no retry can fix): answer the saga instead of
          // letting its command go to the dead letters.
          log.warn(
            { err: error, attempt, max_attempts: maxAttempts },
            "provider unavailable, no retry left: declining",
          );
          return decline("provider_unavailable");
        }
        if (result.outcome === "declined") return decline(result.reason);

        await insertPayment(trx, {
          ...payment,
          status: transition("pending", "authorized"),
          decline_reason: null,
          authorization_id: result.authorizationId,
        });
        await context.outbox.add(trx, PaymentAuthorized, data.orderId, {
          orderId: data.orderId,
          paymentId: payment.id,
          amount: data.amount,
        });
        log.info({ payment_id: payment.id }, "payment authorized");
      },
    ),

    on<PaymentsTables, typeof OrderConfirmed.schema>(
      OrderConfirmed,
      async ({ data, envelope, trx, context }) => {
        const log = context.logger.child({ order_id: data.orderId, event_id: envelope.id });
        const payment = await paymentOfOrderForUpdate(trx, data.orderId);
        if (payment?.status !== "authorized" || !payment.authorization_id) {
          // Captured already (a second confirmation), or nothing to capture: never capture twice.
          log.info({ status: payment?.status ?? null }, "order confirmed: nothing to capture");
          return;
        }
        const amount = { amount: payment.amount, currency: "USD" as const };
        const provider = options.providerOf(context);
        const { captureId } = await provider.capture(
          payment.authorization_id,
          amount,
          providerKey("capture", data.orderId),
        );
        await recordStep(
          { trx, context },
          payment,
          { to: "captured", capture_id: captureId },
          PaymentCaptured,
          { orderId: data.orderId, paymentId: payment.id, amount },
        );
        log.info({ payment_id: payment.id }, "payment captured");
      },
    ),

    on<PaymentsTables, typeof OrderCancelled.schema>(
      OrderCancelled,
      async ({ data, envelope, trx, context }) => {
        const log = context.logger.child({ order_id: data.orderId, event_id: envelope.id });
        // Remembered first, so a PaymentRequested that comes later never charges.
        await recordCancellation(trx, { orderId: data.orderId, userId: data.userId, reason: data.reason });
        const payment = await paymentOfOrderForUpdate(trx, data.orderId);
        if (!payment) {
          log.info({ reason: data.reason }, "order cancelled before any payment: nothing to give back");
          return;
        }
        const provider = options.providerOf(context);
        const amount = { amount: payment.amount, currency: "USD" as const };
        const compensation = compensationFor(payment.status);
        if (compensation === "void" && payment.authorization_id) {
          const { voidId } = await provider.void(payment.authorization_id, providerKey("void", data.orderId));
          await recordStep({ trx, context }, payment, { to: "voided", void_id: voidId }, PaymentVoided, {
            orderId: data.orderId,
            paymentId: payment.id,
          });
          log.info({ payment_id: payment.id, reason: data.reason }, "authorization voided");
        } else if (compensation === "refund" && payment.capture_id) {
          const { refundId } = await provider.refund(
            payment.capture_id,
            amount,
            providerKey("refund", data.orderId),
          );
          await recordStep(
            { trx, context },
            payment,
            { to: "refunded", refund_id: refundId },
            PaymentRefunded,
            { orderId: data.orderId, paymentId: payment.id, amount },
          );
          await recordAudit(trx, {
            actor: "system:checkout-saga",
            action: "payment.refunded",
            target: payment.id,
            details: { orderId: data.orderId, amount, reason: data.reason },
          });
          log.info({ payment_id: payment.id, reason: data.reason }, "payment refunded");
        } else {
          // Declined, voided or refunded already: never refund twice.
          log.info(
            { payment_id: payment.id, status: payment.status },
            "order cancelled: nothing to give back",
          );
        }
      },
    ),
  ];
}
