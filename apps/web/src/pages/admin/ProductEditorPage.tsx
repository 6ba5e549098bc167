import { type FormEvent, useEffect, useMemo, useState } from "react";
import { api, isApiError } from "../../api/client.js";
import type {
  AdminProduct,
  NewProduct,
  Product,
  ProductChanges,
  ProductList,
  StockAdjustment,
} from "../../api/types.js";
import { ErrorMessage, Field, Loading, Notice, TextAreaField } from "../../components/ui.js";
import { fieldErrors } from "../../errors.js";
import { formatMoney, moneyInput, parseMoneyInput } from "../../format.js";
import { Link, navigate, useLocation, useTitle } from "../../router.js";
import { useApi } from "../../use-api.js";
import { useForm } from "../../use-form.js";
import { AdminNav } from "./AdminNav.js";

interface Form {
  sku: string;
  name: string;
  description: string;
  category: string;
  /** As typed: dollars and cents (`12.50`); sent as integer minor units. */
  price: string;
  /** New products only: the first stock. */
  stock: string;
}

const EMPTY: Form = { sku: "", name: "", description: "", category: "", price: "", stock: "0" };

const formOf = (product: Product): Form => ({
  sku: product.sku,
  name: product.name,
  description: product.description,
  category: product.category,
  price: moneyInput(product.price.amount),
  stock: "",
});

/**
 * A price's validation error in money, not cents: the API's `must be <= 100000000` on
 * `/price/amount` reads "cannot be above $1,000,000.00".
 */
function priceError(error: unknown): string | undefined {
  if (!isApiError(error) || error.status !== 400) return undefined;
  for (const issue of error.problem.errors ?? []) {
    if (issue.in && issue.in !== "body") continue;
    if (issue.missing === "price" && (issue.pointer ?? "/").replaceAll("/", "") === "")
      return "Enter a price.";
    if (issue.pointer !== "/price/amount") continue;
    const bound = /must be ([<>]=) (-?\d+)/.exec(issue.message ?? "");
    if (!bound) return "Enter a price in dollars and cents, e.g. 12.50.";
    const money = formatMoney({ amount: Number(bound[2]), currency: "USD" });
    return bound[1] === ">=" ? `The price cannot be below ${money}.` : `The price cannot be above ${money}.`;
  }
  return undefined;
}

/** Why a stock correction was refused (409 `insufficient-stock`), with the levels the API gave. */
function stockConflictText(error: unknown): string | undefined {
  if (!isApiError(error) || error.status !== 409) return undefined;
  const { stock, reserved, available } = error.problem;
  if (typeof stock !== "number" || typeof reserved !== "number" || typeof available !== "number")
    return error.problem.detail ?? "The stock cannot go below what is reserved for orders.";
  return (
    `Not changed: the stock cannot go below the units reserved for orders that are not confirmed yet. ` +
    `There are ${stock} on the shelf and ${reserved} reserved, so at most ${available} can be removed now.`
  );
}

/** `/admin/products/new` (create) and `/admin/products/:id` (edit, and adjust the stock). */
export function ProductEditorPage({ id }: { id?: string }) {
  const creating = id === undefined;
  const { query } = useLocation();
  const loaded = useApi<Product>(creating ? undefined : `/api/inventory/products/${encodeURIComponent(id)}`);
  const [saved, setSaved] = useState<AdminProduct>();
  const product: Product | undefined = saved ?? loaded.data;
  useTitle(creating ? "Admin: new product" : `Admin: ${product?.name ?? "product"}`);

  const { values: form, setValues: setForm, field } = useForm<Form>(EMPTY);
  const [error, setError] = useState<unknown>();
  const [localErrors, setLocalErrors] = useState<Partial<Record<keyof Form, string>>>({});
  const [message, setMessage] = useState<string | undefined>(
    query.get("created") ? "Product created. Customers can find it in the shop now." : undefined,
  );
  const [busy, setBusy] = useState(false);

  // The form shows the product as loaded (and again after each save).
  useEffect(() => {
    if (loaded.data) setForm(formOf(loaded.data));
  }, [loaded.data, setForm]);

  // The categories on offer, suggested as the admin types (the API has no list of its own).
  const catalog = useApi<ProductList>("/api/inventory/products?limit=100");
  const categories = useMemo(
    () => [...new Set((catalog.data?.items ?? []).map((item) => item.category))].sort(),
    [catalog.data],
  );

  if (!creating && !product)
    return loaded.loading ? (
      <Loading label="Loading the product…" />
    ) : (
      <section>
        <h1>Product not available</h1>
        <AdminNav />
        <ErrorMessage error={loaded.error} />
        <p>
          <Link to="/admin">All products</Link>
        </p>
      </section>
    );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setMessage(undefined);
    const amount = form.price.trim() === "" ? undefined : parseMoneyInput(form.price);
    if (form.price.trim() !== "" && amount === undefined) {
      setLocalErrors({ price: "Enter a price in dollars and cents, e.g. 12.50." });
      return;
    }
    setLocalErrors({});
    const price = amount === undefined ? undefined : { amount, currency: "USD" as const };
    setBusy(true);
    try {
      if (creating) {
        // Left-out members are sent as missing, so the API's problem names each required field.
        const body = {
          sku: form.sku.trim(),
          name: form.name.trim(),
          description: form.description.trim(),
          category: form.category.trim(),
          ...(price ? { price } : {}),
          ...(form.stock.trim() === "" ? {} : { stock: Number(form.stock) }),
        } as NewProduct;
        const created = await api<AdminProduct>("/api/inventory/products", { method: "POST", body });
        navigate(`/admin/products/${created.id}?created=1`, { replace: true });
        return;
      }
      if (!product) return;
      // Only what changed: the audit log then records what the admin did, not the whole form.
      const changes: ProductChanges = {};
      if (form.name.trim() !== product.name) changes.name = form.name.trim();
      if (form.description.trim() !== product.description) changes.description = form.description.trim();
      if (form.category.trim() !== product.category) changes.category = form.category.trim();
      if (price === undefined) {
        setLocalErrors({ price: "Enter a price." });
        return;
      }
      if (price.amount !== product.price.amount) changes.price = price;
      if (Object.keys(changes).length === 0) {
        setMessage("Nothing to save: no field was changed.");
        return;
      }
      const updated = await api<AdminProduct>(`/api/inventory/products/${encodeURIComponent(product.id)}`, {
        method: "PATCH",
        body: changes,
      });
      setSaved(updated);
      setForm(formOf(updated));
      setMessage(
        changes.price
          ? `Saved. Customers see the new price, ${formatMoney(updated.price)}, from now on.`
          : "Saved. Customers see the changes from now on.",
      );
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const fields: Partial<Record<string, string>> = { ...fieldErrors(error), ...localErrors };
  if (isApiError(error) && error.slug === "sku-taken")
    fields.sku = "A product with this SKU exists already: choose another.";
  const priceText = localErrors.price ?? priceError(error);
  const fieldCount = Object.keys(fields).length + (priceText ? 1 : 0);
  const title = creating ? "New product" : `Edit ${product?.name ?? "product"}`;
  return (
    <section aria-labelledby="editor-title">
      <h1 id="editor-title">{title}</h1>
      <AdminNav />
      {message && <Notice tone="success">{message}</Notice>}
      <ErrorMessage error={fieldCount ? undefined : error}>
        {fieldCount ? "Please correct the highlighted fields." : undefined}
      </ErrorMessage>
      <div className="admin-columns">
        <form onSubmit={submit} noValidate aria-label="Product details" className="admin-form">
          <h2>Details</h2>
          <Field
            label="SKU"
            {...field("sku", fields.sku)}
            disabled={!creating}
            hint={
              creating ? "Letters, digits, dots, dashes, underscores; it never changes." : "It never changes."
            }
          />
          <Field label="Name" {...field("name", fields.name)} />
          <TextAreaField label="Description" rows={3} {...field("description", fields.description)} />
          <Field label="Category" list="admin-categories" {...field("category", fields.category)} />
          <datalist id="admin-categories">
            {categories.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          <Field
            label="Price (USD)"
            inputMode="decimal"
            {...field("price", priceText ?? fields.price)}
            hint={
              parseMoneyInput(form.price) === undefined
                ? "Dollars and cents, e.g. 12.50."
                : `Customers pay ${formatMoney({ amount: parseMoneyInput(form.price) ?? 0, currency: "USD" })} (${parseMoneyInput(form.price)} cents).`
            }
          />
          {creating && (
            <Field
              label="Units in stock"
              type="number"
              inputMode="numeric"
              min={0}
              step={1}
              {...field("stock", fields.stock)}
            />
          )}
          <button type="submit" disabled={busy}>
            {busy ? "Saving…" : creating ? "Create product" : "Save changes"}
          </button>
        </form>
        {!creating && product && (
          <StockForm
            product={product}
            levels={saved}
            onAdjusted={(adjusted) => {
              setSaved(adjusted);
              setMessage(undefined);
            }}
          />
        )}
      </div>
      {!creating && product && (
        <p>
          <Link to={`/products/${product.id}`}>See it in the shop</Link> ·{" "}
          <Link to="/admin/audit?service=inventory">Audit log</Link>
        </p>
      )}
    </section>
  );
}

/** A stock correction by a delta (units in or out); the API refuses going below what orders reserve. */
function StockForm({
  product,
  levels,
  onAdjusted,
}: {
  product: Product;
  levels: AdminProduct | undefined;
  onAdjusted(product: AdminProduct): void;
}) {
  const [delta, setDelta] = useState("");
  const [error, setError] = useState<unknown>();
  const [local, setLocal] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setMessage(undefined);
    const units = Number(delta);
    if (delta.trim() === "" || !Number.isInteger(units) || units === 0) {
      setLocal("Enter a whole number of units other than 0: positive adds, negative removes.");
      return;
    }
    setLocal(undefined);
    setBusy(true);
    try {
      const body: StockAdjustment = { delta: units };
      const adjusted = await api<AdminProduct>(
        `/api/inventory/products/${encodeURIComponent(product.id)}/stock`,
        { method: "POST", body },
      );
      onAdjusted(adjusted);
      setDelta("");
      setMessage(
        `Stock ${units > 0 ? "raised" : "lowered"} by ${Math.abs(units)}: ${adjusted.stock} on the shelf, ` +
          `${adjusted.reserved} reserved for orders, ${adjusted.available} available to customers.`,
      );
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const conflict = stockConflictText(error);
  const fieldError = local ?? fieldErrors(error).delta;
  return (
    <form onSubmit={submit} noValidate aria-label="Stock" className="admin-form">
      <h2>Stock</h2>
      {levels ? (
        <dl className="levels">
          <dt>On the shelf</dt>
          <dd>{levels.stock}</dd>
          <dt>Reserved for orders</dt>
          <dd>{levels.reserved}</dd>
          <dt>Available to customers</dt>
          <dd>{levels.available}</dd>
        </dl>
      ) : (
        <p>
          <strong>{product.available}</strong> available to customers.
        </p>
      )}
      {message && <Notice tone="success">{message}</Notice>}
      {conflict ? <ErrorMessage>{conflict}</ErrorMessage> : !fieldError && <ErrorMessage error={error} />}
      <Field
        label="Change in stock (units)"
        type="number"
        inputMode="numeric"
        step={1}
        value={delta}
        onChange={(event) => setDelta(event.target.value)}
        error={fieldError}
        hint="A positive number adds units (a delivery); a negative one removes them (damaged, lost)."
      />
      <button type="submit" disabled={busy}>
        {busy ? "Adjusting…" : "Adjust stock"}
      </button>
    </form>
  );
}
