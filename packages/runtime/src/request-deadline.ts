import { HttpProblem } from "./problem.js";
import { currentContext, type RequestContext } from "./request-context.js";

/**
 * A request's time budget, carried from the edge (gRPC's `grpc-timeout`, in milliseconds):
 * how long the sender will wait for the answer, counted from when it sent the request. Relative
 * on purpose: each hop turns it into a deadline on its own clock, so skew between machines does
 * not matter, and sends on what is left when it calls further.
 *
 * The gateway sets it a little shorter than its own timeout for the attempt. A service that
 * finds the budget spent before it starts the work (the request queued too long: in the socket
 * backlog, behind the event loop, in a pool) answers 503 with `Retry-After` without acting,
 * which is then the truth; work started in time finishes before the gateway gives up on it.
 */
export const REQUEST_TIMEOUT_HEADER = "x-request-timeout";

/** The longest budget taken from a header (five minutes); longer ones are capped. */
export const MAX_REQUEST_TIMEOUT_MS = 300_000;

/** A budget header's milliseconds, or undefined when absent or not a plain whole number. */
export function parseRequestTimeout(value: string | string[] | undefined): number | undefined {
  const single = Array.isArray(value) ? value[0] : value;
  if (single === undefined || !/^\d{1,9}$/.test(single)) return undefined;
  return Math.min(Number(single), MAX_REQUEST_TIMEOUT_MS);
}

/** Milliseconds left of the current request's budget (never below 0), or undefined without one. */
export function remainingBudgetMs(
  context: RequestContext | undefined = currentContext(),
): number | undefined {
  if (context?.deadline === undefined) return undefined;
  return Math.max(0, context.deadline - Date.now());
}

/** The answer to a request whose budget ran out before its work began: nothing was done. */
export function deadlineExceeded(): HttpProblem {
  const problem = new HttpProblem({
    status: 503,
    slug: "deadline-exceeded",
    title: "The request's time budget ran out before it was handled",
    detail: "The request waited too long to be handled and was not carried out; retry it.",
  });
  problem.headers["retry-after"] = "1";
  return problem;
}

/** Throws `deadlineExceeded()` when the current request's budget is spent. */
export function assertWithinBudget(context: RequestContext | undefined = currentContext()): void {
  if (remainingBudgetMs(context) === 0) throw deadlineExceeded();
}
