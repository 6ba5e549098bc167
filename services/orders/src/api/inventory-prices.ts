import type { ServiceClient } from "@blossom/client";
import { isUpstreamHttpError } from "@blossom/client";
import type { ProductView } from "@blossom/inventory/contracts";
import { HttpProblem } from "@blossom/runtime";
import type { Static } from "@sinclair/typebox";

type Product = Static<typeof ProductView>;

/**
 * Looks up the current price of each product from the inventory service. An unknown product is
 * the client's mistake (422); inventory being down is not (the client's error surfaces as 503/504).
 */
export async function fetchProducts(
  inventory: ServiceClient,
  productIds: string[],
): Promise<Map<string, Product>> {
  const unique = [...new Set(productIds)];
  const products = await Promise.all(
    unique.map(async (id) => {
      try {
        return await inventory.getJson<Product>(`/api/inventory/products/${encodeURIComponent(id)}`);
      } catch (error) {
        if (isUpstreamHttpError(error) && error.status === 404) {
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
  return new Map(products.map((product) => [product.id, product]));
}
