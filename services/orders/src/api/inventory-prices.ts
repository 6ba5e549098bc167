import { isUpstreamHttpError } from "@blossom/client";
import type { UpstreamClient } from "@blossom/host";
import { HttpProblem } from "@blossom/runtime";
import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/**
 * The part of inventory's price list that orders relies on (a consumer-driven contract):
 * checked on every answer, so a change in inventory fails loudly here instead of pricing wrong.
 */
const PriceQuote = Type.Object({
  id: Type.String(),
  price: Type.Object({ amount: Type.Integer({ minimum: 0 }), currency: Type.Literal("USD") }),
});
const PriceList = Type.Object({ items: Type.Array(PriceQuote) });
type Quote = Static<typeof PriceQuote>;
const priceListChecker = TypeCompiler.Compile(PriceList);

const unknownProduct = (id: string) =>
  new HttpProblem({
    status: 422,
    slug: "unknown-product",
    title: "Unknown product",
    detail: `No product ${id}`,
  });

/**
 * Looks up the current price of each product from the inventory service, in one call to its
 * internal price list (orders' service token goes with it; the host's client view adds it). An
 * unknown product is the client's mistake (422); inventory being down is not (the client's error
 * surfaces as 503/504).
 */
export async function fetchPrices(
  inventory: Pick<UpstreamClient, "getJson">,
  productIds: string[],
): Promise<Map<string, Quote>> {
  const unique = [...new Set(productIds)];
  // A comma cannot be in a product id of the list: such an id names no product.
  const malformed = unique.find((id) => id.includes(","));
  if (malformed !== undefined) throw unknownProduct(malformed);
  let answer: unknown;
  try {
    answer = await inventory.getJson<unknown>("/internal/inventory/prices", {
      query: { ids: unique.join(",") },
    });
  } catch (error) {
    // Inventory refusing the id list as malformed means no product has such an id.
    if (isUpstreamHttpError(error) && error.status === 400) throw unknownProduct(unique.join(", "));
    throw error;
  }
  if (!priceListChecker.Check(answer)) throw new Error("inventory answered an unexpected price list shape");
  const quotes = new Map(answer.items.map((quote) => [quote.id, quote]));
  const missing = unique.find((id) => !quotes.has(id));
  if (missing !== undefined) throw unknownProduct(missing);
  return quotes;
}
