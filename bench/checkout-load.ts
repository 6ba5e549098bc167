/**
 * Checkout load shared by the benchmarks that place orders (telemetry, checkout): customers signed
 * up through the gateway with a card on file, the products they buy, and two ways of placing
 * orders, each POST /api/orders with an Idempotency-Key and then GET /api/orders/:id until the
 * order leaves `pending`: with `Prefer: wait` (the orders service holds the answer until the
 * order settles), or, given a poll interval, by polling as a client without it would:
 *
 *   closed loop  every customer places its next order once the previous one settled
 *                (throughput at saturation)
 *   open loop    orders start at a fixed rate whatever the completions, at most `maxInFlight`
 *                at once (latency at a given load, free of coordinated omission: latency counts
 *                from the moment an order was due, not from when it was sent)
 */
import { randomUUID } from "node:crypto";
import { callHttp } from "@blossom/testkit";
import { type Order, type Product, ShopClient, waitSecondsBefore } from "../tests/support/shop-client.js";
import { errorMessage } from "./report.js";

/** Within the saga deadline (30 s by default): a slower order is counted as not settled. */
export const SETTLE_TIMEOUT_MS = 30_000;

/** A customer ready to check out: signed in, with a card on file. */
export interface Customer {
  client: ShopClient;
  cardId: string;
}

/**
 * `count` customers, signed up one at a time (sign-up and login run scrypt, and a burst of them
 * would outlast timeouts), customer i through `gateways[i % gateways.length]`.
 */
export async function signUpCustomers(
  gateways: readonly string[],
  count: number,
  name = "bench",
): Promise<Customer[]> {
  const customers: Customer[] = [];
  for (let i = 0; i < count; i++) {
    const gateway = gateways[i % gateways.length];
    if (gateway === undefined) throw new Error("no gateway to sign customers up through");
    const client = await ShopClient.signUp(gateway, `${name}${i}`);
    customers.push({ client, cardId: await client.addCard() });
  }
  return customers;
}

/** The first page (up to 100) of the catalog, as customers see it. */
export async function catalog(gateway: string): Promise<Product[]> {
  const answer = await fetch(`${gateway}/api/inventory/products?limit=100`);
  if (!answer.ok) throw new Error(`catalog: ${answer.status} ${await answer.text()}`);
  const { items } = (await answer.json()) as { items: Product[] };
  return items;
}

/**
 * Products with stock for `orders` single-unit orders spread round-robin over the catalog, so
 * that no single stock row becomes the bottleneck.
 */
export async function productsWithStock(gateway: string, orders: number): Promise<Product[]> {
  const items = await catalog(gateway);
  const needed = Math.ceil(orders / Math.max(items.length, 1));
  const products = items.filter((product) => product.available >= needed);
  if (products.length === 0) throw new Error("no product with enough stock (demo seed missing?)");
  return products;
}

/**
 * Adds `delta` units to every product's stock through the admin API (POST
 * /api/inventory/products/:id/stock), as admin@blossom.local with BLOSSOM_ADMIN_PASSWORD.
 */
export async function restock(
  gateway: string,
  adminPassword: string,
  products: readonly Product[],
  delta: number,
): Promise<void> {
  const admin = await ShopClient.logIn(gateway, "admin@blossom.local", adminPassword);
  for (const product of products) {
    const answer = await callHttp(gateway, "POST", `/api/inventory/products/${product.id}/stock`, {
      body: { delta },
      headers: admin.auth,
    });
    if (answer.status !== 200)
      throw new Error(
        `restock ${product.sku}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`,
      );
  }
}

/** What a run of orders did. */
export interface LoadResult {
  /** From the first order's start until the last one settled. */
  seconds: number;
  /** Orders attempted (POSTed or failed trying). */
  started: number;
  confirmed: number;
  cancelled: number;
  /** Orders whose POST failed, or that did not settle in time. */
  failed: number;
  /** Open loop only: due orders not started because `maxInFlight` were in flight. */
  skipped: number;
  /** Place -> seen confirmed, of the confirmed orders, in ms. */
  latenciesMs: number[];
  /** GET /api/orders/:id requests sent while waiting for orders to settle (polls or held waits). */
  polls: number;
  /** CPU seconds of the platform (the `cpu` meter) over the run, if given. */
  cpuSeconds: number | undefined;
  /** CPU seconds of this process (the load generator) over the run. */
  clientCpuSeconds: number;
  firstFailure?: string;
}

interface LoadCommon {
  customers: readonly Customer[];
  products: readonly Product[];
  /** Order n buys `products[(productOffset + n) % products.length]`. */
  productOffset?: number;
  /** Poll a pending order at this interval; undefined: ask with `Prefer: wait` (one held request). */
  pollMs?: number | undefined;
  settleTimeoutMs?: number;
  /** CPU seconds used so far by the platform (summed over its processes). */
  cpu?: () => number;
}

/** Counters of one run, and the order journey both loops share. */
class Tally {
  readonly latenciesMs: number[] = [];
  started = 0;
  confirmed = 0;
  cancelled = 0;
  failed = 0;
  skipped = 0;
  polls = 0;
  firstFailure: string | undefined;
  readonly #begun = performance.now();
  readonly #cpuBefore: number | undefined;
  readonly #clientBefore = process.cpuUsage();

  constructor(private readonly options: LoadCommon) {
    this.#cpuBefore = options.cpu?.();
  }

  fail(message: string): void {
    this.failed++;
    this.firstFailure ??= message;
  }

  /** One order by `customer`: POST, then poll until settled; latency counts from `dueAt`. */
  async order(customer: Customer, n: number, dueAt: number): Promise<void> {
    const { products, productOffset = 0, pollMs, settleTimeoutMs = SETTLE_TIMEOUT_MS } = this.options;
    const product = products[(productOffset + n) % products.length];
    if (!product) return;
    this.started++;
    const placed = await customer.client
      .placeOrder([{ productId: product.id, quantity: 1 }], customer.cardId, randomUUID())
      .catch((error: unknown) => ({ status: 0, body: errorMessage(error) }));
    // 200 is a replay: the gateway retried the POST with the same Idempotency-Key, the order exists.
    if (placed.status !== 200 && placed.status !== 201 && placed.status !== 202) {
      this.fail(`place order: ${placed.status} ${JSON.stringify(placed.body).slice(0, 200)}`);
      return;
    }
    const orderId = (placed.body as { id: string }).id;
    const order = await this.settled(customer.client, orderId, pollMs, settleTimeoutMs).catch(
      (error: unknown) => {
        this.fail(errorMessage(error));
        return undefined;
      },
    );
    if (order?.status === "confirmed") {
      this.confirmed++;
      this.latenciesMs.push(performance.now() - dueAt);
    } else if (order) {
      this.cancelled++;
      this.firstFailure ??= `order cancelled: ${order.cancellationReason ?? "no reason"}`;
    }
  }

  /** As `ShopClient.settled` (or polling every `pollMs`), with the requests counted. */
  async settled(
    client: ShopClient,
    orderId: string,
    pollMs: number | undefined,
    timeoutMs: number,
  ): Promise<Order> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      const wait = pollMs === undefined ? waitSecondsBefore(deadline) : 0;
      try {
        this.polls++;
        const order = await client.order(orderId, wait);
        if (order.status === 200 && order.body.status !== "pending") return order.body;
        if (order.status === 200 && wait > 0) continue;
      } catch (error) {
        last = error;
      }
      await sleep(pollMs ?? 10);
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for order ${orderId} to settle${last ? `: ${String(last)}` : ""}`,
    );
  }

  result(): LoadResult {
    const seconds = (performance.now() - this.#begun) / 1000;
    const cpuAfter = this.options.cpu?.();
    const client = process.cpuUsage(this.#clientBefore);
    return {
      seconds,
      started: this.started,
      confirmed: this.confirmed,
      cancelled: this.cancelled,
      failed: this.failed,
      skipped: this.skipped,
      latenciesMs: this.latenciesMs,
      polls: this.polls,
      cpuSeconds:
        this.#cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - this.#cpuBefore,
      clientCpuSeconds: (client.user + client.system) / 1e6,
      ...(this.firstFailure ? { firstFailure: this.firstFailure } : {}),
    };
  }
}

export interface ClosedLoopOptions extends LoadCommon {
  /** Stop after this many orders in all... */
  orders?: number;
  /** ... or start no new order after this long (whichever comes first; at least one must be given). */
  durationMs?: number;
}

/** Every customer places orders one after another, each settled before its next, until the budget is spent. */
export async function closedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  if (options.orders === undefined && options.durationMs === undefined)
    throw new Error("closedLoop needs orders or durationMs");
  const tally = new Tally(options);
  const limit = options.orders ?? Number.POSITIVE_INFINITY;
  const deadline =
    options.durationMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.durationMs;
  let next = 0;
  await Promise.all(
    options.customers.map(async (customer) => {
      for (let n = next++; n < limit && Date.now() < deadline; n = next++) {
        await tally.order(customer, n, performance.now());
      }
    }),
  );
  return tally.result();
}

export interface OpenLoopOptions extends LoadCommon {
  /** Orders started per second. */
  ratePerSecond: number;
  /** Orders due in all (the run lasts about orders / ratePerSecond). */
  orders: number;
  /** Orders in flight at most: one due while this many are pending is skipped (and counted). */
  maxInFlight: number;
}

/** Orders due at a fixed rate, order n placed by customer n % customers.length, whatever the completions. */
export async function openLoop(options: OpenLoopOptions): Promise<LoadResult> {
  const tally = new Tally(options);
  const intervalMs = 1000 / options.ratePerSecond;
  const begun = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let n = 0; n < options.orders; n++) {
    const dueAt = begun + n * intervalMs;
    const wait = dueAt - performance.now();
    if (wait > 0) await sleep(wait);
    if (inFlight.size >= options.maxInFlight) {
      tally.skipped++;
      continue;
    }
    const customer = options.customers[n % options.customers.length];
    if (!customer) break;
    const order = tally.order(customer, n, dueAt).finally(() => inFlight.delete(order));
    inFlight.add(order);
  }
  await Promise.all(inFlight);
  return tally.result();
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], share: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
