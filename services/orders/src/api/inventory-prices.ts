import type { ServiceClient } from "@blossom/client";
import { isUpstreamHttpError } from "@blossom/client";
import { HttpProblem } from "@blossom/runtime";
import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/**
 * The part of inventory's product answer that orders relies on (a consumer-driven contract):
 * checked on every answer, so a change in inventory fails loudly here instead of pricing wrong.
 */
const PriceQuote = Type.Object({
  id: Type.String(),
  price: Type.Object({ amount: Type.Integer({ minimum: 0 }), currency: Type.Literal("USD") }),
});
type Quote = Static<typeof PriceQuote>;
const quoteChecker = TypeCompiler.Compile(PriceQuote);

/**
 * Looks up the current price of each product from the inventory service. An unknown product is
 * the client's mistake (422); inventory being down is not (the client's error surfaces as 503/504).
 */
export async function fetchPrices(
  inventory: ServiceClient,
  productIds: string[],
): Promise<Map<string, Quote>> {
  const unique = [...new Set(productIds)];
  const quotes = await Promise.all(
    unique.map(async (id) => {
      try {
        const answer = await inventory.getJson<unknown>(`/api/inventory/products/${encodeURIComponent(id)}`);
        if (!quoteChecker.Check(answer))
          throw new Error(`inventory answered an unexpected product shape for ${id}`);
        return answer;
      } catch (error) {
        if (isUpstreamHttpError(error) && (error.status === 404 || error.status === 400)) {
          throw new HttpProblem({
            status: 422,
            slug: "unknown-product",
            title: "Unknown product",
            detail: `No product ${id}`,
          });
        }
        throw error;
      }
    }),
  );
  return new Map(quotes.map((quote) => [quote.id, quote]));
}
