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

/**
 * What an admin types as a price (`12`, `12.5`, `$1,234.50`) as integer minor units (cents),
 * parsed as text so that no floating-point rounding creeps in; undefined when it is not a price
 * (letters, three decimals). A minus sign is kept: the API says why a negative price is refused.
 */
export function parseMoneyInput(text: string): number | undefined {
  const match = /^(-)?\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, minus, whole = "0", fraction = ""] = match;
  const cents = Number(whole.replaceAll(",", "")) * 100 + Number(fraction.padEnd(2, "0"));
  return minus ? -cents : cents;
}

/** Minor units as the price field shows them: `1234` → `12.34`. */
export function moneyInput(amount: number): string {
  const sign = amount < 0 ? "-" : "";
  const cents = Math.abs(amount);
  return `${sign}${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
}
