// Generated from the services' route declarations (`config: { auth: "public" }`, published as
// `x-blossom-access` in the merged OpenAPI document). Do not edit: after changing a route's
// access, run `UPDATE_GENERATED=1 npx vitest run tests/security/route-classification.test.ts`; it fails
// while this file is stale.
export const PUBLIC_OPERATIONS: ReadonlyArray<{ method: string; path: string }> = [
  { method: "GET", path: "/.well-known/jwks.json" },
  { method: "GET", path: "/api/inventory/products" },
  { method: "GET", path: "/api/inventory/products/{id}" },
  { method: "POST", path: "/api/auth/login" },
  { method: "POST", path: "/api/auth/logout" },
  { method: "POST", path: "/api/auth/refresh" },
  { method: "POST", path: "/api/users" },
];
