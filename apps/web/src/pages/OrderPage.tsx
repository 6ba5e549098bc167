import { useCallback, useEffect, useState } from "react";
import { api, apiWithETag, isAbort } from "../api/client.js";
import type { Order, Payment, Payments, Product } from "../api/types.js";
import { ErrorMessage, Loading, Notice, SignInPrompt } from "../components/ui.js";
import { cancellationText } from "../errors.js";
import { formatDate, formatMoney } from "../format.js";
import { Link, useTitle } from "../router.js";
import { useSession } from "../session.js";
import { useApi } from "../use-api.js";

/** A line's product name, from the catalog (an order line carries the id and the price paid). */
function ProductName({ id }: { id: string }) {
  const product = useApi<Product>(`/api/inventory/products/${encodeURIComponent(id)}`);
  return <Link to={`/products/${id}`}>{product.data?.name ?? "Product"}</Link>;
}

/** The longest the shop asks the API to hold an answer (orders caps it at 10 s). */
const WAIT_SECONDS = 10;

const PAYMENT_WORDS: Record<string, string> = {
  pending: "Payment pending",
  authorized: "Payment authorized",
  captured: "Paid",
  refunded: "Refunded",
  voided: "Authorization released: nothing was charged",
  declined: "Card declined: nothing was charged",
};

/**
 * One order, live: while it is pending the page holds a `GET /api/orders/:id` with
 * `Prefer: wait=10` and the `ETag` it has as `If-None-Match`, which the API answers the moment
 * the saga moves the order (stock reserved, payment authorized, confirmed or cancelled), or with
 * 304 after 10 s, when the page asks again. No timer polls: each request waits on the server.
 */
export function OrderPage({ id }: { id: string }) {
  useTitle("Your order");
  const { user } = useSession();
  const [order, setOrder] = useState<Order>();
  const [payment, setPayment] = useState<Payment | null>();
  const [error, setError] = useState<unknown>();
  const [cancelError, setCancelError] = useState<unknown>();
  const [cancelling, setCancelling] = useState(false);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (!user) return;
    generation;
    const controller = new AbortController();
    const path = `/api/orders/${encodeURIComponent(id)}`;
    (async () => {
      try {
        let { body: current, etag } = await apiWithETag<Order>(path, null, { signal: controller.signal });
        if (current) setOrder(current);
        // Each request is held until the order changes from what the page shows (a step of the
        // checkout, its outcome), or 10 s pass (304: unchanged, ask again).
        while (current?.status === "pending" && !controller.signal.aborted) {
          const next = await apiWithETag<Order>(path, etag, {
            signal: controller.signal,
            headers: { prefer: `wait=${WAIT_SECONDS}` },
          });
          etag = next.etag;
          if (next.body) {
            current = next.body;
            setOrder(current);
          }
        }
        setError(undefined);
      } catch (failure) {
        if (!isAbort(failure)) setError(failure);
      }
    })();
    return () => controller.abort();
  }, [id, user, generation]);

  // The payment behind a settled order: captured, declined (and why), refunded.
  const loadPayment = useCallback(async () => {
    const list = await api<Payments>(`/api/payments?orderId=${encodeURIComponent(id)}`);
    const found = list.items[0] ?? null;
    setPayment(found);
    return found;
  }, [id]);
  const status = order?.status;
  // Stock is reserved before the card is charged: an order cancelled for lack of stock never had
  // a payment, and asking for it would only earn a 404 (which the browser logs as an error).
  const unpaid = order?.cancellationReason === "out_of_stock";
  useEffect(() => {
    if (unpaid) setPayment(null);
    else if (status && status !== "pending") loadPayment().catch(() => setPayment(null));
  }, [status, unpaid, loadPayment]);

  const cancel = async () => {
    setCancelling(true);
    setCancelError(undefined);
    try {
      setOrder(
        await api<Order>(`/api/orders/${encodeURIComponent(id)}/cancel`, { method: "POST", body: {} }),
      );
      // The refund follows the cancellation through the saga: a few quick looks, then it is
      // shown as on its way (the inbox gets the refund notice when it is done). Not `Prefer:
      // wait`: payments cannot hold this answer cheaply (apps/web/README.md, "The refund").
      for (const delay of [200, 400, 800, 1600, 3200]) {
        const found = await loadPayment();
        if (!found || found.status === "refunded" || found.status === "voided") break;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    } catch (failure) {
      setCancelError(failure);
    } finally {
      setCancelling(false);
    }
  };

  if (user === null)
    return (
      <SignInPrompt title="Your order" next={`/orders/${encodeURIComponent(id)}`}>
        to see this order.
      </SignInPrompt>
    );
  if (!order)
    return error ? (
      <section>
        <h1>Your order</h1>
        <ErrorMessage error={error} />
        <button type="button" onClick={() => setGeneration((value) => value + 1)}>
          Try again
        </button>
      </section>
    ) : (
      <Loading label="Loading your order…" />
    );

  const placedAt = order.history?.find((entry) => entry.status === "pending")?.at ?? order.createdAt;
  const settledAt = order.history?.find((entry) => entry.status !== "pending")?.at;
  return (
    <article aria-labelledby="order-title">
      <h1 id="order-title">Order {order.id.slice(0, 8)}</h1>
      <ol className="progress" aria-label="Order progress">
        <li className="done">
          <span>Order placed</span> <span className="muted">{formatDate(placedAt)}</span>
        </li>
        {order.status === "pending" && order.step !== "authorizing-payment" && (
          <li className="active" aria-current="step">
            <span>Reserving stock…</span>
          </li>
        )}
        {(order.step === "authorizing-payment" || order.status === "confirmed") && (
          <li className="done">
            <span>Stock reserved</span>
          </li>
        )}
        {order.step === "authorizing-payment" && (
          <li className="active" aria-current="step">
            <span>Authorizing payment…</span>
          </li>
        )}
        {order.status === "confirmed" && (
          <li className="done">
            <span>Payment authorized</span>
          </li>
        )}
        {order.status !== "pending" && (
          <li className={order.status === "confirmed" ? "done" : "failed"}>
            <span>{order.status === "confirmed" ? "Confirmed" : "Cancelled"}</span>{" "}
            <span className="muted">{formatDate(settledAt)}</span>
          </li>
        )}
      </ol>
      <div aria-live="polite" className="live">
        {order.status === "pending" && <p>We are processing your order; this page updates by itself.</p>}
        {order.status === "confirmed" && (
          <Notice tone="success">
            <strong>Order confirmed.</strong> A confirmation is on its way to your inbox.
          </Notice>
        )}
        {order.status === "cancelled" && (
          <Notice>
            <strong>Order cancelled.</strong>{" "}
            {cancellationText(order.cancellationReason, payment?.declineReason)}
          </Notice>
        )}
      </div>
      <ErrorMessage error={error} />
      <h2>Items</h2>
      <ul className="order-lines">
        {order.items.map((line) => (
          <li key={line.productId}>
            <ProductName id={line.productId} />: {line.quantity} × {formatMoney(line.unitPrice)} ={" "}
            {formatMoney({
              amount: line.unitPrice.amount * line.quantity,
              currency: line.unitPrice.currency,
            })}
          </li>
        ))}
      </ul>
      <p className="price">Total {formatMoney(order.total)}</p>
      {payment && (
        <p className="payment-status">
          Payment: <strong>{PAYMENT_WORDS[payment.status] ?? payment.status}</strong>
          {payment.status === "refunded" && ` (${formatMoney(payment.amount)} back to your card)`}
        </p>
      )}
      {order.status !== "cancelled" && (
        <p>
          <button type="button" className="danger" onClick={cancel} disabled={cancelling}>
            {cancelling ? "Cancelling…" : "Cancel order"}
          </button>
        </p>
      )}
      <ErrorMessage error={cancelError} />
      <p>
        <Link to="/orders">All your orders</Link>
      </p>
    </article>
  );
}
