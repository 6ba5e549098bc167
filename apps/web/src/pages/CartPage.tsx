import { useEffect, useState } from "react";
import { api } from "../api/client.js";
import type { Product } from "../api/types.js";
import { cartTotal, setQuantity, useCart } from "../cart.js";
import { ColumnHeads, Notice } from "../components/ui.js";
import { formatMoney } from "../format.js";
import { Link, useTitle } from "../router.js";

/** The cart, re-priced from the catalog on every visit (the order is priced by the server again). */
export function CartPage() {
  useTitle("Cart");
  const lines = useCart();
  const [current, setCurrent] = useState<Record<string, Product | null>>({});
  const ids = lines.map((line) => line.productId).join(",");
  useEffect(() => {
    let live = true;
    for (const id of ids ? ids.split(",") : []) {
      api<Product>(`/api/inventory/products/${encodeURIComponent(id)}`).then(
        (product) => live && setCurrent((previous) => ({ ...previous, [id]: product })),
        () => live && setCurrent((previous) => ({ ...previous, [id]: null })),
      );
    }
    return () => {
      live = false;
    };
  }, [ids]);

  if (lines.length === 0)
    return (
      <section>
        <h1>Your cart</h1>
        <p>Your cart is empty.</p>
        <p>
          <Link to="/">Continue shopping</Link>
        </p>
      </section>
    );
  const priced = lines.map((line) => ({ ...line, price: current[line.productId]?.price ?? line.price }));
  const changed = lines.some((line) => {
    const now = current[line.productId];
    return now && now.price.amount !== line.price.amount;
  });
  return (
    <section aria-labelledby="cart-title">
      <h1 id="cart-title">Your cart</h1>
      {changed && (
        <Notice>Some prices changed since you added the items; the cart shows today's prices.</Notice>
      )}
      <table className="cart-table">
        <ColumnHeads caption="Items in your cart" columns={["Product", "Price", "Quantity", "Subtotal"]} />
        <tbody>
          {priced.map((line) => {
            const product = current[line.productId];
            return (
              <tr key={line.productId}>
                <td>
                  <Link to={`/products/${line.productId}`}>{line.name}</Link>
                  {product === null && <p className="field-error">No longer available.</p>}
                  {product && product.available < line.quantity && (
                    <p className="field-error">
                      {product.available === 0 ? "Out of stock." : `Only ${product.available} left.`}
                    </p>
                  )}
                </td>
                <td>{formatMoney(line.price)}</td>
                <td>
                  <label className="visually-hidden" htmlFor={`qty-${line.productId}`}>
                    Quantity of {line.name}
                  </label>
                  <input
                    id={`qty-${line.productId}`}
                    className="qty"
                    type="number"
                    min={0}
                    max={100}
                    value={line.quantity}
                    onChange={(event) =>
                      setQuantity(line.productId, Math.max(0, Number(event.target.value) || 0))
                    }
                  />
                  <button
                    type="button"
                    className="link-button"
                    aria-label={`Remove ${line.name}`}
                    onClick={() => setQuantity(line.productId, 0)}
                  >
                    Remove
                  </button>
                </td>
                <td>
                  {formatMoney({ amount: line.price.amount * line.quantity, currency: line.price.currency })}
                </td>
              </tr>
            );
          })}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={3}>
              Total
            </th>
            <td className="price">{formatMoney(cartTotal(priced))}</td>
          </tr>
        </tfoot>
      </table>
      <p className="actions">
        <Link to="/">Continue shopping</Link>
        <Link to="/checkout" className="button">
          Check out
        </Link>
      </p>
    </section>
  );
}
