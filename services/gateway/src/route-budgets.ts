import { DEFAULT_TIMEOUT_MS } from "@blossom/client";
import { templatePattern } from "./edge-auth.js";
import { OPERATION_BUDGETS } from "./operation-budgets.generated.js";

/**
 * The gateway's upstream timeout per operation: the client's usual 2 s, or longer for the
 * operations a service declares slow (`config: { budgetMs }`, e.g. password hashing under a
 * queue). The service refuses (503, nothing done) what it cannot finish within its budget, so the
 * gateway, waiting the whole budget, does not give up on work that is still going to be done
 * (which it could then only answer 504, outcome unknown).
 */
const BUDGETS: ReadonlyArray<{ method: string; path: RegExp; budgetMs: number }> = OPERATION_BUDGETS.map(
  ({ method, path, budgetMs }) => ({ method, path: templatePattern(path), budgetMs }),
);
const METHODS_WITH_BUDGETS: ReadonlySet<string> = new Set(BUDGETS.map(({ method }) => method));

/**
 * The attempt timeout for a forwarded request (query ignored): the declared budget, or undefined
 * for the client's own timeout.
 */
export function upstreamTimeoutMs(method: string, url: string): number | undefined {
  if (!METHODS_WITH_BUDGETS.has(method)) return undefined;
  const path = url.split("?")[0] ?? url;
  const budget = BUDGETS.find((entry) => entry.method === method && entry.path.test(path));
  return budget === undefined ? undefined : Math.max(DEFAULT_TIMEOUT_MS, budget.budgetMs);
}
