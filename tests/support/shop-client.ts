import { randomUUID } from "node:crypto";
import { callHttp, eventually, type HttpAnswer } from "@blossom/testkit";

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export interface Order {
  id: string;
  status: "pending" | "confirmed" | "cancelled";
  cancellationReason?: string;
  total: { amount: number; currency: string };
  history?: Array<{ status: string; at: string }>;
}

export interface Product {
  id: string;
  sku: string;
  name: string;
  category: string;
  price: { amount: number; currency: string };
  available: number;
}

export const ADDRESS = {
  name: "Ann Buyer",
  line1: "1 Main Street",
  city: "Springfield",
  postalCode: "12345",
  country: "US",
};

/** A customer of the shop, driving it only through the gateway's public API. */
export class ShopClient {
  constructor(
    readonly gateway: string,
    readonly tokens: Tokens,
  ) {}

  static async signUp(
    gateway: string,
    name = "Ann",
  ): Promise<ShopClient & { email: string; password: string }> {
    const email = `${name.toLowerCase()}-${randomUUID()}@example.com`;
    const password = "correct horse battery";
    const created = await callHttp(gateway, "POST", "/api/users", { body: { email, password, name } });
    if (created.status !== 201)
      throw new Error(`sign-up failed: ${created.status} ${JSON.stringify(created.body)}`);
    const client = await ShopClient.logIn(gateway, email, password);
    return Object.assign(client, { email, password });
  }

  static async logIn(gateway: string, email: string, password: string): Promise<ShopClient> {
    const login = await callHttp<Tokens>(gateway, "POST", "/api/auth/login", { body: { email, password } });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
    return new ShopClient(gateway, login.body);
  }

  get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.tokens.accessToken}` };
  }

  send<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer<T>> {
    return callHttp<T>(this.gateway, method, path, { body, headers: { ...this.auth, ...headers } });
  }

  async addCard(cardNumber = "4242424242424242"): Promise<string> {
    const method = await this.send<{ id: string }>("POST", "/api/payments/methods", {
      cardNumber,
      expMonth: 12,
      expYear: new Date().getFullYear() + 3,
      cvc: "123",
    });
    if (method.status !== 201)
      throw new Error(`add card failed: ${method.status} ${JSON.stringify(method.body)}`);
    return method.body.id;
  }

  placeOrder(
    items: Array<{ productId: string; quantity: number }>,
    paymentMethodId: string,
    key: string = randomUUID(),
  ) {
    return this.send<Order>(
      "POST",
      "/api/orders",
      { items, paymentMethodId, shippingAddress: ADDRESS },
      { "idempotency-key": key },
    );
  }

  /**
   * Places an order as a well-behaved client does under load: a 503/504 (the platform shedding
   * a burst: breaker open, bulkhead full, timeout) is retried after its `Retry-After` with the
   * same Idempotency-Key, so a retry can never create a second order.
   */
  async placeOrderPatiently(
    items: Array<{ productId: string; quantity: number }>,
    paymentMethodId: string,
    timeoutMs = 60_000,
  ) {
    const key = randomUUID();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.placeOrder(items, paymentMethodId, key);
      if ((answer.status !== 503 && answer.status !== 504) || Date.now() > deadline) return answer;
      const retryAfterSeconds = Number(answer.headers.get("retry-after") ?? "0.5");
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(Math.max(retryAfterSeconds, 0.2), 5) * 1000),
      );
    }
  }

  /**
   * GET /api/orders/:id; with `waitSeconds`, the orders service holds a pending order's answer
   * until it settles or that many seconds pass (`Prefer: wait`).
   */
  order(orderId: string, waitSeconds = 0): Promise<HttpAnswer<Order>> {
    return this.send<Order>(
      "GET",
      `/api/orders/${orderId}`,
      undefined,
      waitSeconds > 0 ? { prefer: `wait=${waitSeconds}` } : {},
    );
  }

  /**
   * Waits until the order leaves `pending`, as a client should: each GET asks the orders service
   * to hold its answer until then (`Prefer: wait`, never beyond the time left), so an order that
   * settles is seen at once, in one request.
   */
  async settled(orderId: string, timeoutMs = 10_000): Promise<Order> {
    const deadline = Date.now() + timeoutMs;
    return eventually(
      async () => {
        const order = await this.order(orderId, waitSecondsBefore(deadline));
        return order.status === 200 && order.body.status !== "pending" ? order.body : undefined;
      },
      timeoutMs,
      `order ${orderId} to settle`,
    );
  }
}

/** The `Prefer: wait` that ends before `deadline` (ms since the epoch), at most the server's 10 s. */
export function waitSecondsBefore(deadline: number): number {
  return Math.max(0, Math.min(10, Math.floor((deadline - Date.now()) / 1000)));
}

export async function product(gateway: string, id: string): Promise<Product> {
  const answer = await callHttp<Product>(gateway, "GET", `/api/inventory/products/${id}`);
  if (answer.status !== 200) throw new Error(`product ${id}: ${answer.status}`);
  return answer.body;
}
