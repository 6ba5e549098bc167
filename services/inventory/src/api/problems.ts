import { HttpProblem } from "@blossom/runtime";

export function productNotFound(id: string): HttpProblem {
  return HttpProblem.of("notFound", `No product ${id}`);
}

export function skuTaken(sku: string): HttpProblem {
  return new HttpProblem({
    status: 409,
    slug: "sku-taken",
    title: "SKU already exists",
    detail: `A product with sku ${sku} exists`,
  });
}

/** A stock correction would leave less stock than the units reserved for orders. */
export function insufficientStock(stock: number, reserved: number, delta: number): HttpProblem {
  return new HttpProblem({
    status: 409,
    slug: "insufficient-stock",
    title: "Stock cannot go below what is reserved",
    detail: `stock ${stock} ${delta < 0 ? "-" : "+"} ${Math.abs(delta)} would be below the ${reserved} units reserved for orders`,
    extensions: { stock, reserved, available: stock - reserved },
  });
}

export function stockLimit(requested: number, limit: number): HttpProblem {
  return HttpProblem.of("unprocessable", `stock ${requested} would exceed the limit of ${limit}`);
}
