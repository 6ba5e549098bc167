// Generated from the services' route declarations (`config: { budgetMs }`, published as
// `x-blossom-budget-ms` in the merged OpenAPI document). Do not edit: after changing a route's
// budget, run `UPDATE_GENERATED=1 npx vitest run tests/security/route-classification.test.ts`; it fails
// while this file is stale.
export const OPERATION_BUDGETS: ReadonlyArray<{ method: string; path: string; budgetMs: number }> = [
  { method: "POST", path: "/api/auth/login", budgetMs: 10000 },
  { method: "POST", path: "/api/users", budgetMs: 10000 },
];
