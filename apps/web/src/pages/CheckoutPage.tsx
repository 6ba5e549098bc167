import { useEffect, useState } from "react";
import { api, newIdempotencyKey } from "../api/client.js";
import type {
  NewCard,
  Order,
  PaymentMethod,
  PaymentMethodList,
  PlaceOrder,
  ShippingAddress,
} from "../api/types.js";
import { cartTotal, clearCart, useCart } from "../cart.js";
import { ErrorMessage, Field, Loading, SignInPrompt } from "../components/ui.js";
import { fieldErrors } from "../errors.js";
import { formatMoney } from "../format.js";
import { Link, navigate, useTitle } from "../router.js";
import { useSession } from "../session.js";
import { useApi } from "../use-api.js";
import { useForm, useSubmit } from "../use-form.js";

const NEW_CARD = "new";

/** The address's fields, in the order a person fills them in. */
const ADDRESS_FIELDS: Array<{
  name: keyof ShippingAddress;
  label: string;
  autoComplete: string;
  hint?: string;
  maxLength?: number;
}> = [
  { name: "name", label: "Full name", autoComplete: "name" },
  { name: "line1", label: "Street address", autoComplete: "address-line1" },
  { name: "city", label: "City", autoComplete: "address-level2" },
  { name: "postalCode", label: "Postal code", autoComplete: "postal-code" },
  {
    name: "country",
    label: "Country code",
    autoComplete: "country",
    hint: "Two letters, e.g. US, GB, DE.",
    maxLength: 2,
  },
];

/**
 * Checkout: a shipping address and a card (saved, or a new one saved first), then one
 * `POST /api/orders` with an Idempotency-Key that is kept while the request is the same, so a
 * retry after a lost answer places the order once. Field errors come from the API's problem+json.
 */
export function CheckoutPage() {
  useTitle("Checkout");
  const { user } = useSession();
  const lines = useCart();
  const cards = useApi<PaymentMethodList>(user ? "/api/payments/methods" : undefined);
  const {
    values: address,
    setValues: setAddress,
    field,
  } = useForm<ShippingAddress>({
    name: "",
    line1: "",
    city: "",
    postalCode: "",
    country: "US",
  });
  const [choice, setChoice] = useState<string>();
  const { values: card, field: cardField } = useForm({
    cardNumber: "",
    expMonth: "",
    expYear: "",
    cvc: "",
  });
  const [attempt, setAttempt] = useState<{ key: string; body: string }>();
  const [cardKey] = useState(newIdempotencyKey);
  const [cardError, setCardError] = useState<unknown>();

  useEffect(() => {
    if (user?.name) setAddress((previous) => (previous.name ? previous : { ...previous, name: user.name }));
  }, [user, setAddress]);
  const saved = cards.data?.items ?? [];
  const selected = choice ?? saved[0]?.id ?? NEW_CARD;

  const { submit, error, busy } = useSubmit(async () => {
    setCardError(undefined);
    let paymentMethodId = selected;
    if (selected === NEW_CARD) {
      const body: NewCard = {
        cardNumber: card.cardNumber.replace(/[\s-]/g, ""),
        expMonth: Number(card.expMonth),
        expYear: Number(card.expYear),
        cvc: card.cvc,
      };
      try {
        const method = await api<PaymentMethod>("/api/payments/methods", {
          method: "POST",
          body,
          headers: { "idempotency-key": cardKey },
        });
        paymentMethodId = method.id;
        cards.reload();
        setChoice(method.id);
      } catch (failure) {
        setCardError(failure);
        return;
      }
    }
    const order: PlaceOrder = {
      items: lines.map((line) => ({ productId: line.productId, quantity: line.quantity })),
      paymentMethodId,
      shippingAddress: { ...address, country: address.country.toUpperCase() },
    };
    const body = JSON.stringify(order);
    // The same request keeps its key (a retry is answered, not placed twice); a changed one gets a new key.
    const key = attempt?.body === body ? attempt.key : newIdempotencyKey();
    setAttempt({ key, body });
    const placed = await api<Order>("/api/orders", {
      method: "POST",
      body: order,
      headers: { "idempotency-key": key },
    });
    clearCart();
    navigate(`/orders/${placed.id}`);
  });

  if (user === undefined) return <Loading />;
  if (user === null)
    return (
      <SignInPrompt title="Checkout" next="/checkout">
        or <Link to="/signup?next=/checkout">create an account</Link> to check out. Your cart is kept.
      </SignInPrompt>
    );
  if (lines.length === 0)
    return (
      <section>
        <h1>Checkout</h1>
        <p>
          Your cart is empty. <Link to="/">Find something you like</Link>.
        </p>
      </section>
    );

  const fields = fieldErrors(error);
  const cardFields = fieldErrors(cardError);
  const addressError = (name: keyof ShippingAddress) => fields[`shippingAddress.${name}`];
  const hasFieldErrors = Object.keys(fields).length > 0;
  return (
    <section aria-labelledby="checkout-title">
      <h1 id="checkout-title">Checkout</h1>
      <p>
        {lines.length} item{lines.length === 1 ? "" : "s"}, about {formatMoney(cartTotal(lines))}: the final
        price is confirmed when you place the order.
      </p>
      <ErrorMessage error={hasFieldErrors ? undefined : error}>
        {hasFieldErrors ? "Please correct the highlighted fields." : undefined}
      </ErrorMessage>
      <form onSubmit={submit} noValidate className="checkout-form">
        <fieldset>
          <legend>Shipping address</legend>
          {ADDRESS_FIELDS.map(({ name, ...props }) => (
            <Field key={name} {...props} {...field(name, addressError(name))} />
          ))}
        </fieldset>
        <fieldset>
          <legend>Payment</legend>
          {cards.loading && <Loading label="Loading your cards…" />}
          <ErrorMessage error={cards.error} />
          {saved.map((method) => (
            <div className="radio" key={method.id}>
              <input
                type="radio"
                id={`card-${method.id}`}
                name="card"
                value={method.id}
                checked={selected === method.id}
                onChange={() => setChoice(method.id)}
              />
              <label htmlFor={`card-${method.id}`}>
                {method.brand.toUpperCase()} ending in {method.last4}, expires{" "}
                {String(method.expMonth).padStart(2, "0")}/{method.expYear}
              </label>
            </div>
          ))}
          {saved.length > 0 && (
            <div className="radio">
              <input
                type="radio"
                id="card-new"
                name="card"
                value={NEW_CARD}
                checked={selected === NEW_CARD}
                onChange={() => setChoice(NEW_CARD)}
              />
              <label htmlFor="card-new">A new card</label>
            </div>
          )}
          {selected === NEW_CARD && (
            <div className="new-card">
              <ErrorMessage error={Object.keys(cardFields).length ? undefined : cardError} />
              <Field
                label="Card number"
                inputMode="numeric"
                autoComplete="cc-number"
                {...cardField("cardNumber", cardFields.cardNumber)}
                hint="Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined; 4000 0000 0000 9995 has insufficient funds."
              />
              <div className="row">
                <Field
                  label="Expiry month"
                  inputMode="numeric"
                  autoComplete="cc-exp-month"
                  placeholder="MM"
                  {...cardField("expMonth", cardFields.expMonth)}
                />
                <Field
                  label="Expiry year"
                  inputMode="numeric"
                  autoComplete="cc-exp-year"
                  placeholder="YYYY"
                  {...cardField("expYear", cardFields.expYear)}
                />
                <Field
                  label="CVC"
                  inputMode="numeric"
                  autoComplete="cc-csc"
                  {...cardField("cvc", cardFields.cvc)}
                />
              </div>
            </div>
          )}
        </fieldset>
        <button type="submit" disabled={busy}>
          {busy ? "Placing your order…" : "Place order"}
        </button>
      </form>
    </section>
  );
}
