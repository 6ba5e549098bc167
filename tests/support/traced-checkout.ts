import { randomBytes, randomUUID } from "node:crypto";
import { callHttp } from "@blossom/testkit";
import { ADDRESS, type Order, type Product, ShopClient, type Tokens } from "./shop-client.js";

/** A new W3C trace id, as a traced client (a browser, a mobile app) starts one per journey. */
export function newTraceId(): string {
  return randomBytes(16).toString("hex");
}

/** A `traceparent` header continuing `traceId` from a new client span. */
export function traceparent(traceId: string): { traceparent: string } {
  return { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
}

/**
 * A whole checkout as one client-side trace: sign up, log in, add a card, place an order for
 * one lamp, each request carrying the journey's trace context. Placing the order itself never
 * calls the users service (tokens are verified locally), so the sign-up is what brings users
 * into the trace, as it would for a new customer's first purchase.
 */
export async function tracedCheckout(
  gateway: string,
  traceId: string,
): Promise<{ customer: ShopClient; order: Order; email: string }> {
  const email = `traced-${randomUUID()}@example.com`;
  const password = "correct horse battery";
  const created = await callHttp(gateway, "POST", "/api/users", {
    body: { email, password, name: "Tracy" },
    headers: traceparent(traceId),
  });
  if (created.status !== 201) throw new Error(`sign-up: ${created.status} ${JSON.stringify(created.body)}`);
  const login = await callHttp<Tokens>(gateway, "POST", "/api/auth/login", {
    body: { email, password },
    headers: traceparent(traceId),
  });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  const customer = new ShopClient(gateway, login.body);
  const card = await customer.send<{ id: string }>(
    "POST",
    "/api/payments/methods",
    { cardNumber: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 3, cvc: "123" },
    traceparent(traceId),
  );
  if (card.status !== 201) throw new Error(`add card: ${card.status} ${JSON.stringify(card.body)}`);
  const search = await callHttp<{ items: Product[] }>(gateway, "GET", "/api/inventory/products?q=lamp", {
    headers: traceparent(traceId),
  });
  const lamp = search.body.items[0];
  if (!lamp) throw new Error("no lamp in the seeded catalog");
  const placed = await customer.send<Order>(
    "POST",
    "/api/orders",
    { items: [{ productId: lamp.id, quantity: 1 }], paymentMethodId: card.body.id, shippingAddress: ADDRESS },
    { "idempotency-key": randomUUID(), ...traceparent(traceId) },
  );
  if (placed.status !== 202) throw new Error(`order: ${placed.status} ${JSON.stringify(placed.body)}`);
  return { customer, order: placed.body, email };
}
