import { type EventBinding, on } from "@blossom/host";
import { OrderCancelled, OrderConfirmed } from "@blossom/orders-contracts";
import { PaymentRefunded } from "@blossom/payments-contracts";
import { UserRegistered } from "@blossom/users-contracts";
import {
  renderOrderCancelled,
  renderOrderConfirmed,
  renderRefundIssued,
  renderWelcome,
} from "../domain/templates.js";
import { findOrder, rememberOrder } from "../store/orders-store.js";
import type { NotificationsTables } from "../store/tables.js";
import { findContact, saveContact } from "../store/users-store.js";
import { notify } from "./notify.js";

type Tables = NotificationsTables;

/**
 * Every handler runs inside the inbox transaction: it updates the local copies (contacts, known
 * orders) and records the messages as `pending`; the dispatcher sends them after commit.
 */
export const notificationsHandlers: EventBinding<Tables>[] = [
  /** Keeps the user's contact (order events carry only the user id) and welcomes them. */
  on<Tables, typeof UserRegistered.schema>(UserRegistered, async ({ data, envelope, trx }) => {
    await saveContact(trx, data.userId, { email: data.email, name: data.name });
    await notify(trx, {
      userId: data.userId,
      email: data.email,
      message: renderWelcome({ name: data.name }),
      sourceEventId: envelope.id,
    });
  }),

  on<Tables, typeof OrderConfirmed.schema>(OrderConfirmed, async ({ data, envelope, trx }) => {
    await rememberOrder(trx, { orderId: data.orderId, userId: data.userId, refundAnnounced: false });
    const contact = await findContact(trx, data.userId);
    await notify(trx, {
      userId: data.userId,
      email: contact?.email,
      message: renderOrderConfirmed({
        name: contact?.name,
        orderId: data.orderId,
        items: data.items,
        total: data.total,
      }),
      sourceEventId: envelope.id,
    });
  }),

  /** Tells the reason; a cancelled confirmed order was paid, so the notice also announces the refund. */
  on<Tables, typeof OrderCancelled.schema>(OrderCancelled, async ({ data, envelope, trx }) => {
    await rememberOrder(trx, {
      orderId: data.orderId,
      userId: data.userId,
      refundAnnounced: data.wasConfirmed,
    });
    const contact = await findContact(trx, data.userId);
    await notify(trx, {
      userId: data.userId,
      email: contact?.email,
      message: renderOrderCancelled({
        name: contact?.name,
        orderId: data.orderId,
        total: data.total,
        reason: data.reason,
        wasConfirmed: data.wasConfirmed,
      }),
      sourceEventId: envelope.id,
    });
  }),

  /**
   * A refund the customer has not been told about yet (one not announced by a cancellation
   * notice). Payment events name only the order: the user comes from the order events seen
   * before; a refund for an order never seen has no one to tell and is only logged.
   */
  on<Tables, typeof PaymentRefunded.schema>(PaymentRefunded, async ({ data, envelope, trx, context }) => {
    const order = await findOrder(trx, data.orderId);
    if (!order) {
      context.logger.warn(
        { order_id: data.orderId },
        "refund for an order notifications never saw: no one to tell",
      );
      return;
    }
    // The cancellation notice of a confirmed order already said "refund issued".
    if (order.refundAnnounced) return;
    const contact = await findContact(trx, order.userId);
    await notify(trx, {
      userId: order.userId,
      email: contact?.email,
      message: renderRefundIssued({ name: contact?.name, orderId: data.orderId, amount: data.amount }),
      sourceEventId: envelope.id,
    });
  }),
];
