import type { OrderList } from "../api/types.js";
import { ColumnHeads, ErrorMessage, Loading, SignInPrompt } from "../components/ui.js";
import { formatDate, formatMoney } from "../format.js";
import { Link, useTitle } from "../router.js";
import { useSession } from "../session.js";
import { useApi } from "../use-api.js";

const STATUS_WORDS = { pending: "Processing", confirmed: "Confirmed", cancelled: "Cancelled" } as const;

export function OrdersPage() {
  useTitle("Your orders");
  const { user } = useSession();
  const orders = useApi<OrderList>(user ? "/api/orders?limit=50" : undefined);
  if (user === null)
    return (
      <SignInPrompt title="Your orders" next="/orders">
        to see your orders.
      </SignInPrompt>
    );
  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">Your orders</h1>
      <ErrorMessage error={orders.error} />
      {orders.loading && !orders.data && <Loading label="Loading your orders…" />}
      {orders.data?.items.length === 0 && (
        <p>
          No orders yet. <Link to="/">Start shopping</Link>.
        </p>
      )}
      {orders.data && orders.data.items.length > 0 && (
        <table className="orders-table">
          <ColumnHeads caption="Your orders, newest first" columns={["Order", "Placed", "Status", "Total"]} />
          <tbody>
            {orders.data.items.map((order) => (
              <tr key={order.id}>
                <td>
                  <Link to={`/orders/${order.id}`}>Order {order.id.slice(0, 8)}</Link>
                </td>
                <td>{formatDate(order.createdAt)}</td>
                <td>
                  <span className={`status status-${order.status}`}>{STATUS_WORDS[order.status]}</span>
                </td>
                <td>{formatMoney(order.total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
