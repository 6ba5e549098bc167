import { isApiError, isUnreachable } from "./api/client.js";

/** Why an order was cancelled, in words (the orders service's `cancellationReason`). */
export function cancellationText(reason: string | undefined, declineReason?: string | null): string {
  switch (reason) {
    case "payment_declined":
      return declineReason === "insufficient_funds"
        ? "Your card was declined for insufficient funds. Nothing was charged; try another card."
        : "Your card was declined. Nothing was charged; try another card.";
    case "out_of_stock":
      return "Sorry: an item ran out of stock before we could reserve it. Nothing was charged.";
    case "timeout":
      return "The order could not be completed in time and was cancelled. Nothing was charged.";
    case "cancelled_by_customer":
      return "You cancelled this order.";
    default:
      return reason ? `The order was cancelled (${reason}).` : "The order was cancelled.";
  }
}

/** Any error the API or the network gave, as a sentence a shopper understands. */
export function describeError(error: unknown): string {
  if (isUnreachable(error))
    return "The shop cannot be reached right now. Check your connection and try again in a moment.";
  if (!isApiError(error)) return "Something went wrong on our side. Please try again.";
  const wait = error.retryAfter;
  switch (error.status) {
    case 429:
      return `Too many requests: please wait ${wait ?? "a few"} second${wait === 1 ? "" : "s"} and try again.`;
    case 502:
    case 503:
    case 504:
      return `The shop is busy or partly unavailable${wait ? `: please try again in ${wait} s` : ": please try again shortly"}.`;
    case 401:
      return error.slug === "invalid-credentials"
        ? "The email or the password is not correct."
        : "Your session has expired. Please sign in again.";
    case 403:
      return "You are not allowed to do that.";
    case 404:
      return "We could not find that. It may have been removed.";
    case 409:
      return error.problem.detail ?? "That conflicts with something that already exists.";
    default:
      return error.problem.detail ?? error.problem.title ?? "The request could not be completed.";
  }
}

/**
 * The validation errors of a problem+json answer, by field path (`shippingAddress.postalCode`,
 * `cardNumber`), each in words: shown next to its field.
 */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!isApiError(error) || error.status !== 400) return {};
  const fields: Record<string, string> = {};
  for (const issue of error.problem.errors ?? []) {
    if (issue.in && issue.in !== "body") continue;
    const base = (issue.pointer ?? "/").split("/").filter(Boolean);
    const path = [...base, ...(issue.missing ? [issue.missing] : [])].join(".");
    if (!path || fields[path]) continue;
    fields[path] = humanize(issue.message ?? "is not valid", issue.missing !== undefined);
  }
  return fields;
}

function humanize(message: string, missing: boolean): string {
  if (missing) return "This field is required.";
  const tooShort = /must NOT have fewer than (\d+) characters/.exec(message);
  if (tooShort)
    return tooShort[1] === "1" ? "This field is required." : `Use at least ${tooShort[1]} characters.`;
  const tooLong = /must NOT have more than (\d+) characters/.exec(message);
  if (tooLong) return `Use at most ${tooLong[1]} characters.`;
  if (/must match pattern/.test(message)) return "This is not in the expected format.";
  if (/must match format "email"/.test(message)) return "Enter a valid email address.";
  const atLeast = /must be >= (-?\d+)/.exec(message);
  if (atLeast) return `Use ${atLeast[1]} or more.`;
  const atMost = /must be <= (-?\d+)/.exec(message);
  if (atMost) return `Use ${atMost[1]} or less.`;
  if (/must be integer/.test(message)) return "Use a whole number.";
  return message.charAt(0).toUpperCase() + message.slice(1) + (message.endsWith(".") ? "" : ".");
}
