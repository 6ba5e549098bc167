import { type FormEvent, useMemo, useState } from "react";
import type { ProductList } from "../api/types.js";
import { addToCart } from "../cart.js";
import { ErrorMessage, Loading, Notice } from "../components/ui.js";
import { formatMoney } from "../format.js";
import { Link, navigate, useLocation, useTitle } from "../router.js";
import { useApi } from "../use-api.js";

const PAGE_SIZE = 12;

/** The catalog: search, category filter, and the API's cursor pagination (in the URL). */
export function CatalogPage() {
  useTitle("Shop");
  const { query } = useLocation();
  const q = query.get("q") ?? "";
  const category = query.get("category") ?? "";
  const cursor = query.get("cursor") ?? "";
  const page = Number(query.get("page") ?? "1") || 1;
  const [search, setSearch] = useState(q);
  const [added, setAdded] = useState<string>();

  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (q) params.set("q", q);
  if (category) params.set("category", category);
  if (cursor) params.set("cursor", cursor);
  const list = useApi<ProductList>(`/api/inventory/products?${params}`);
  // The categories on offer, from the catalog itself (the API has no list of its own).
  const all = useApi<ProductList>("/api/inventory/products?limit=100");
  const categories = useMemo(
    () => [...new Set((all.data?.items ?? []).map((item) => item.category))].sort(),
    [all.data],
  );

  const go = (next: { q?: string; category?: string; cursor?: string; page?: number }) => {
    const url = new URLSearchParams();
    const nq = next.q ?? q;
    const nc = next.category ?? category;
    if (nq) url.set("q", nq);
    if (nc) url.set("category", nc);
    if (next.cursor) {
      url.set("cursor", next.cursor);
      url.set("page", String(next.page ?? 1));
    }
    const qs = url.toString();
    navigate(qs ? `/?${qs}` : "/");
  };
  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    go({ q: search.trim() });
  };

  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">Shop</h1>
      <search>
        <form className="filters" onSubmit={onSearch}>
          <div className="field">
            <label htmlFor="search">Search products</label>
            <input
              id="search"
              type="search"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
              placeholder="lamp, knife, seeds…"
            />
          </div>
          <div className="field">
            <label htmlFor="category">Category</label>
            <select
              id="category"
              value={category}
              onChange={(event) => go({ q, category: event.target.value })}
            >
              <option value="">All categories</option>
              {categories.map((name) => (
                <option key={name} value={name}>
                  {name.charAt(0).toUpperCase() + name.slice(1)}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Search</button>
        </form>
      </search>
      {added && <Notice tone="success">Added {added} to your cart.</Notice>}
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading label="Loading products…" />}
      {list.data && list.data.items.length === 0 && (
        <p>No products match{q ? ` “${q}”` : ""}. Try another search or category.</p>
      )}
      {list.data && list.data.items.length > 0 && (
        <ul className="product-grid" aria-label="Products">
          {list.data.items.map((product) => (
            <li key={product.id} className="product-card">
              <h2>
                <Link to={`/products/${product.id}`}>{product.name}</Link>
              </h2>
              <p className="muted">{product.description}</p>
              <p className="price">{formatMoney(product.price)}</p>
              <p className={product.available > 0 ? "stock" : "stock stock-out"}>
                {product.available > 0 ? `${product.available} in stock` : "Out of stock"}
              </p>
              <button
                type="button"
                disabled={product.available <= 0}
                onClick={() => {
                  addToCart({ productId: product.id, name: product.name, price: product.price });
                  setAdded(product.name);
                }}
              >
                Add to cart<span className="visually-hidden"> ({product.name})</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <nav className="pager" aria-label="Pages">
        {cursor && (
          <button type="button" onClick={() => window.history.back()}>
            Previous page
          </button>
        )}
        {cursor && <span>Page {page}</span>}
        {list.data?.nextCursor && (
          <button type="button" onClick={() => go({ cursor: list.data?.nextCursor ?? "", page: page + 1 })}>
            Next page
          </button>
        )}
      </nav>
    </section>
  );
}
