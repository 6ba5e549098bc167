import { useState } from "react";
import type { Product } from "../api/types.js";
import { addToCart, MAX_QUANTITY } from "../cart.js";
import { ErrorMessage, Loading, Notice } from "../components/ui.js";
import { formatMoney } from "../format.js";
import { Link, useTitle } from "../router.js";
import { useApi } from "../use-api.js";

export function ProductPage({ id }: { id: string }) {
  const product = useApi<Product>(`/api/inventory/products/${encodeURIComponent(id)}`);
  const [quantity, setQuantity] = useState(1);
  const [added, setAdded] = useState(false);
  useTitle(product.data?.name ?? "Product");
  if (product.loading && !product.data) return <Loading label="Loading product…" />;
  if (!product.data)
    return (
      <section>
        <h1>Product not available</h1>
        <ErrorMessage error={product.error} />
        <p>
          <Link to="/">Back to the shop</Link>
        </p>
      </section>
    );
  const item = product.data;
  const max = Math.min(MAX_QUANTITY, item.available);
  return (
    <article className="product-page" aria-labelledby="product-title">
      <p>
        <Link to="/">← All products</Link>
      </p>
      <h1 id="product-title">{item.name}</h1>
      <p>{item.description}</p>
      <p className="price">{formatMoney(item.price)}</p>
      <p className={item.available > 0 ? "stock" : "stock stock-out"}>
        {item.available > 0 ? `${item.available} available` : "Out of stock"}{" "}
        <button type="button" className="link-button" onClick={product.reload}>
          Refresh availability
        </button>
      </p>
      <p className="muted">
        SKU {item.sku} · {item.category}
      </p>
      {item.available > 0 && (
        <form
          className="add-form"
          onSubmit={(event) => {
            event.preventDefault();
            addToCart({ productId: item.id, name: item.name, price: item.price }, quantity);
            setAdded(true);
          }}
        >
          <div className="field">
            <label htmlFor="quantity">Quantity</label>
            <input
              id="quantity"
              type="number"
              min={1}
              max={max}
              value={quantity}
              onChange={(event) => setQuantity(Math.max(1, Math.min(max, Number(event.target.value) || 1)))}
            />
          </div>
          <button type="submit">Add to cart</button>
        </form>
      )}
      {added && (
        <Notice tone="success">
          Added to your cart. <Link to="/cart">View cart</Link>
        </Notice>
      )}
    </article>
  );
}
