import { callHttp } from "@blossom/testkit";
import type { ShopClient } from "../../support/shop-client.js";

/** One request the load generator made: what, when, how it ended and how long it took. */
export interface Sample {
  kind: "catalog" | "checkout";
  startedAt: number;
  status: number;
  ms: number;
  /** Whether at least one inventory replica was alive when the request started. */
  inventoryUp: boolean;
  /** The problem type and detail of a failed answer. */
  problem?: string;
  detail?: string;
}

export interface LoadOptions {
  gateway: string;
  productIds: string[];
  buyers: Array<{ client: ShopClient; card: string }>;
  catalogReaders: number;
  durationMs: number;
  inventoryUp: () => boolean;
}

export interface LoadResult {
  samples: Sample[];
  /** Ids of the orders the platform accepted (202). */
  accepted: string[];
}

/**
 * A bounded load generator on loopback: a fixed number of catalog readers (each one request at a
 * time, list and product pages in turn) and one checkout worker per buyer, for a fixed duration.
 * Every request is recorded; a network error counts as status 0.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const samples: Sample[] = [];
  const accepted: string[] = [];
  const stopAt = Date.now() + options.durationMs;
  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;

  async function timed(kind: Sample["kind"], request: () => Promise<{ status: number; body: unknown }>) {
    const startedAt = Date.now();
    const inventoryUp = options.inventoryUp();
    let status = 0;
    let body: unknown;
    try {
      ({ status, body } = await request());
    } catch {
      status = 0;
    }
    const sample: Sample = { kind, startedAt, status, ms: Date.now() - startedAt, inventoryUp };
    const problem = (body as { type?: unknown } | undefined)?.type;
    if (status >= 400 && typeof problem === "string") sample.problem = problem;
    const detail = (body as { detail?: unknown } | undefined)?.detail;
    if (status >= 400 && typeof detail === "string") sample.detail = detail;
    samples.push(sample);
    return { status, body };
  }

  const reader = async (index: number) => {
    for (let round = index; Date.now() < stopAt; round += 1) {
      const path =
        round % 2 === 0
          ? "/api/inventory/products?limit=20"
          : `/api/inventory/products/${pick(options.productIds)}`;
      await timed("catalog", () => callHttp(options.gateway, "GET", path));
    }
  };
  const checkout = async (buyer: LoadOptions["buyers"][number]) => {
    while (Date.now() < stopAt) {
      const items = [{ productId: pick(options.productIds), quantity: 1 + Math.floor(Math.random() * 2) }];
      const placed = await timed("checkout", () => buyer.client.placeOrder(items, buyer.card));
      const id = (placed.body as { id?: unknown } | undefined)?.id;
      if (placed.status === 202 && typeof id === "string") accepted.push(id);
      // A shopper's pace: keeps the order count (and the settlement wait) bounded.
      await new Promise((done) => setTimeout(done, 150));
    }
  };

  await Promise.all([
    ...Array.from({ length: options.catalogReaders }, (_, index) => reader(index)),
    ...options.buyers.map(checkout),
  ]);
  return { samples, accepted };
}

/** The p-th percentile (0..100) of the values, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
