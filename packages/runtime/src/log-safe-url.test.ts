import { describe, expect, it } from "vitest";
import { logSafeUrl } from "./log-safe-url.js";

describe("logSafeUrl", () => {
  it("keeps the path and the names of the query's parameters, not their values", () => {
    expect(logSafeUrl("/api/users/me?access_token=eyJhbGciOi.x.y")).toBe(
      "/api/users/me?access_token=[redacted]",
    );
    expect(logSafeUrl("/api/inventory/products?q=jane%20doe&limit=10&cursor=abc")).toBe(
      "/api/inventory/products?q=[redacted]&limit=10&cursor=[redacted]",
    );
  });

  it("leaves a URL without a query, and bare flags, as they are", () => {
    expect(logSafeUrl("/api/orders/1")).toBe("/api/orders/1");
    expect(logSafeUrl("/api/orders?mine")).toBe("/api/orders?mine");
  });
});
