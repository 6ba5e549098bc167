import { type FormEvent, useState } from "react";
import type { ProductList } from "../../api/types.js";
import { ColumnHeads, ErrorMessage, Loading } from "../../components/ui.js";
import { formatMoney } from "../../format.js";
import { Link, navigate, useLocation, useTitle } from "../../router.js";
import { useApi } from "../../use-api.js";
import { AdminNav } from "./AdminNav.js";

const PAGE_SIZE = 20;

/** The catalog as an admin manages it: search, the API's cursor pages, a link to edit each product. */
export function AdminProductsPage() {
  useTitle("Admin: products");
  const { query } = useLocation();
  const q = query.get("q") ?? "";
  const cursor = query.get("cursor") ?? "";
  const [search, setSearch] = useState(q);
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (q) params.set("q", q);
  if (cursor) params.set("cursor", cursor);
  const list = useApi<ProductList>(`/api/inventory/products?${params}`);

  const go = (next: { q: string; cursor?: string }) => {
    const url = new URLSearchParams();
    if (next.q) url.set("q", next.q);
    if (next.cursor) url.set("cursor", next.cursor);
    const qs = url.toString();
    navigate(qs ? `/admin?${qs}` : "/admin");
  };
  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    go({ q: search.trim() });
  };

  return (
    <section aria-labelledby="admin-products-title">
      <h1 id="admin-products-title">Products</h1>
      <AdminNav />
      <search>
        <form className="filters" onSubmit={onSearch}>
          <div className="field">
            <label htmlFor="admin-search">Search the catalog</label>
            <input
              id="admin-search"
              type="search"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
            />
          </div>
          <button type="submit">Search</button>
        </form>
      </search>
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading label="Loading products…" />}
      {list.data?.items.length === 0 && <p>No products match{q ? ` “${q}”` : ""}.</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-scroll">
          <table className="orders-table">
            <ColumnHeads
              caption="Products, by SKU"
              columns={["Product", "SKU", "Category", "Price", "Available"]}
            />
            <tbody>
              {list.data.items.map((product) => (
                <tr key={product.id}>
                  <td>
                    {/* The visible name is part of the link's name (WCAG 2.5.3, label in name). */}
                    <Link to={`/admin/products/${product.id}`} aria-label={`Edit ${product.name}`}>
                      {product.name}
                    </Link>
                  </td>
                  <td>{product.sku}</td>
                  <td>{product.category}</td>
                  <td>{formatMoney(product.price)}</td>
                  <td className={product.available > 0 ? undefined : "stock-out"}>{product.available}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages">
        {cursor && (
          <button type="button" onClick={() => window.history.back()}>
            Previous page
          </button>
        )}
        {list.data?.nextCursor && (
          <button type="button" onClick={() => go({ q, cursor: list.data?.nextCursor ?? "" })}>
            Next page
          </button>
        )}
      </nav>
    </section>
  );
}
