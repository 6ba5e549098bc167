import type { Money } from "./api/types.js";

const formatters = new Map<string, Intl.NumberFormat>();

/** Integer minor units (cents) as the shopper reads them: `$89.00`. */
export function formatMoney(money: Money): string {
  let formatter = formatters.get(money.currency);
  if (!formatter) {
    formatter = new Intl.NumberFormat("en-US", { style: "currency", currency: money.currency });
    formatters.set(money.currency, formatter);
  }
  return formatter.format(money.amount / 100);
}

export function formatDate(iso: string | undefined): string {
  if (!iso) return "";
  return new Date(iso).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });
}
