/**
 * Checkouts offered at a fixed rate (open loop), each answer kept: what the overload suites
 * (`*.overload.test.ts`) and `npm run bench -- overload` check and print. Every order is placed
 * once, as a client that gets no answer it trusts would not retry here: so that each order that
 * exists can be traced back to the one answer its placer got.
 */
import { randomUUID } from "node:crypto";
import { callHttp } from "@blossom/testkit";
import { type Order, type Product, ShopClient, waitSecondsBefore } from "../../support/shop-client.js";

/** A customer ready to check out: signed in, with a card on file. */
export interface Buyer {
  client: ShopClient;
  cardId: string;
}

/** One order placed: what `POST /api/orders` answered, and how the order ended if it was accepted. */
export interface Placement {
  buyer: number;
  /** The product it bought one unit of. */
  productId: string;
  key: string;
  /** 0: the request failed without an answer (connection reset, fetch error). */
  status: number;
  /** From when the order was due to when `POST /api/orders` answered. */
  answeredMs: number | undefined;
  retryAfter: string | null;
  problemType: string | undefined;
  orderId: string | undefined;
  final: Order["status"] | "unsettled" | undefined;
  /** From when the order was due to when it was seen confirmed. */
  placeToConfirmedMs: number | undefined;
}

export interface OverloadRun {
  /** From the first order due until the last one settled. */
  seconds: number;
  /** Orders due but not sent: `maxInFlight` were outstanding (the client's own bound). */
  skipped: number;
  placements: Placement[];
}

export interface AtRateOptions {
  buyers: readonly Buyer[];
  products: readonly Product[];
  ratePerSecond: number;
  durationMs: number;
  /** Orders outstanding (placing or settling) at most; one due beyond is skipped and counted. */
  maxInFlight?: number;
  /** How long an accepted order may take to settle (default 30 s, the saga deadline). */
  settleTimeoutMs?: number;
}

/** `count` buyers signed up one at a time through the gateway, each with a card. */
export async function signUpBuyers(gateway: string, count: number, name: string): Promise<Buyer[]> {
  const buyers: Buyer[] = [];
  for (let i = 0; i < count; i++) {
    const client = await ShopClient.signUp(gateway, `${name}${i}`);
    buyers.push({ client, cardId: await client.addCard() });
  }
  return buyers;
}

/** Orders due at `ratePerSecond` for `durationMs`, order n by buyer n % buyers, whatever the answers. */
export async function checkoutsAtRate(options: AtRateOptions): Promise<OverloadRun> {
  const { buyers, products, ratePerSecond, durationMs } = options;
  const maxInFlight = options.maxInFlight ?? 512;
  const settleTimeoutMs = options.settleTimeoutMs ?? 30_000;
  const total = Math.max(1, Math.round((ratePerSecond * durationMs) / 1000));
  const intervalMs = 1000 / ratePerSecond;
  const placements: Placement[] = [];
  const inFlight = new Set<Promise<void>>();
  let skipped = 0;
  const begun = performance.now();
  for (let n = 0; n < total; n++) {
    const dueAt = begun + n * intervalMs;
    const wait = dueAt - performance.now();
    if (wait > 0) await sleep(wait);
    if (inFlight.size >= maxInFlight) {
      skipped++;
      continue;
    }
    const buyerIndex = n % buyers.length;
    const buyer = buyers[buyerIndex];
    const product = products[n % products.length];
    if (!buyer || !product) break;
    const placement: Placement = {
      buyer: buyerIndex,
      productId: product.id,
      key: randomUUID(),
      status: 0,
      answeredMs: undefined,
      retryAfter: null,
      problemType: undefined,
      orderId: undefined,
      final: undefined,
      placeToConfirmedMs: undefined,
    };
    placements.push(placement);
    const order = placeOne(buyer, product, placement, dueAt, settleTimeoutMs).finally(() =>
      inFlight.delete(order),
    );
    inFlight.add(order);
  }
  await Promise.all(inFlight);
  return { seconds: (performance.now() - begun) / 1000, skipped, placements };
}

async function placeOne(
  buyer: Buyer,
  product: Product,
  placement: Placement,
  dueAt: number,
  settleTimeoutMs: number,
): Promise<void> {
  const answer = await buyer.client
    .placeOrder([{ productId: product.id, quantity: 1 }], buyer.cardId, placement.key)
    .catch(() => undefined);
  if (!answer) return;
  placement.status = answer.status;
  placement.answeredMs = performance.now() - dueAt;
  placement.retryAfter = answer.headers.get("retry-after");
  const body = answer.body as { id?: string; type?: string } | undefined;
  if (answer.status >= 400) {
    placement.problemType = body?.type;
    return;
  }
  placement.orderId = body?.id;
  if (!placement.orderId) return;
  const deadline = Date.now() + settleTimeoutMs;
  while (Date.now() < deadline) {
    const seen = await buyer.client
      .order(placement.orderId, waitSecondsBefore(deadline))
      .catch(() => undefined);
    if (seen?.status === 200 && seen.body.status !== "pending") {
      placement.final = seen.body.status;
      if (seen.body.status === "confirmed") placement.placeToConfirmedMs = performance.now() - dueAt;
      return;
    }
    if (seen?.status !== 200) await sleep(100);
  }
  placement.final = "unsettled";
}

/** What a run did, as the bench prints it and the suites assert it. */
export interface OverloadSummary {
  offered: number;
  skipped: number;
  accepted: number;
  confirmed: number;
  confirmedPerSecond: number;
  /** 503 answers (each should carry Retry-After). */
  shed: number;
  shedWithoutRetryAfter: number;
  /** Every other answer that is not 2xx, by status (0: no answer). */
  otherErrors: Record<string, number>;
  cancelled: number;
  unsettled: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  /** p99 from due to the POST's answer (202 or 503 alike): how long shedding took to say no. */
  answerP99Ms: number | undefined;
}

export function summarize(run: OverloadRun): OverloadSummary {
  const { placements } = run;
  const accepted = placements.filter((p) => p.status >= 200 && p.status < 300);
  const confirmed = accepted.filter((p) => p.final === "confirmed");
  const shed = placements.filter((p) => p.status === 503);
  const otherErrors: Record<string, number> = {};
  for (const p of placements)
    if (!(p.status >= 200 && p.status < 300) && p.status !== 503)
      otherErrors[p.status] = (otherErrors[p.status] ?? 0) + 1;
  const latencies = confirmed.map((p) => p.placeToConfirmedMs ?? 0);
  return {
    offered: placements.length + run.skipped,
    skipped: run.skipped,
    accepted: accepted.length,
    confirmed: confirmed.length,
    confirmedPerSecond: confirmed.length / run.seconds,
    shed: shed.length,
    shedWithoutRetryAfter: shed.filter((p) => !(Number(p.retryAfter) >= 1)).length,
    otherErrors,
    cancelled: accepted.filter((p) => p.final === "cancelled").length,
    unsettled: accepted.filter((p) => p.final === "unsettled").length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    answerP99Ms: percentile(
      placements.flatMap((p) => (p.answeredMs === undefined ? [] : [p.answeredMs])),
      0.99,
    ),
  };
}

/**
 * Issue 15's "no order behind an error that claims nothing happened": every order in each buyer's
 * own order list (`GET /api/orders`) was answered 2xx to the request that placed it, or is one of
 * that buyer's 504s (outcome unknown). Returns what breaks it (empty when it holds).
 */
export async function ordersBehindErrors(
  buyers: readonly Buyer[],
  placements: readonly Placement[],
): Promise<string[]> {
  const broken: string[] = [];
  for (const [index, buyer] of buyers.entries()) {
    const mine = placements.filter((p) => p.buyer === index);
    const answered2xx = new Set(mine.flatMap((p) => (p.orderId ? [p.orderId] : [])));
    const unknown = mine.filter((p) => p.status === 504).length;
    const listed = await listOrderIds(buyer.client);
    const unexplained = listed.filter((id) => !answered2xx.has(id));
    if (unexplained.length > unknown)
      broken.push(
        `buyer ${index}: ${unexplained.length} order(s) not answered 2xx (${unexplained.slice(0, 3).join(", ")}) but only ${unknown} 504(s); answers ${statusCounts(mine)}`,
      );
    const missing = [...answered2xx].filter((id) => !listed.includes(id));
    if (missing.length > 0) broken.push(`buyer ${index}: answered 2xx but not listed: ${missing.join(", ")}`);
  }
  return broken;
}

/** Every order in a customer's own order list (`GET /api/orders`, page after page). */
export async function listOrderIds(client: ShopClient): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const answer = await callHttp<{ items: Array<{ id: string }>; nextCursor?: string | null }>(
      client.gateway,
      "GET",
      `/api/orders?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      { headers: client.auth },
    );
    if (answer.status !== 200)
      throw new Error(`GET /api/orders: ${answer.status} ${answer.text.slice(0, 200)}`);
    ids.push(...answer.body.items.map((item) => item.id));
    cursor = answer.body.nextCursor ?? undefined;
    if (!cursor) break;
  }
  return ids;
}

function statusCounts(placements: readonly Placement[]): string {
  const counts = new Map<number, number>();
  for (const p of placements) counts.set(p.status, (counts.get(p.status) ?? 0) + 1);
  return [...counts].map(([status, count]) => `${status}×${count}`).join(" ");
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
