/** An amount in integer minor units (cents), as every Blossom event carries it. */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

const SYMBOLS: Record<string, string> = { USD: "$" };

/**
 * Formats integer minor units for people: `{amount: 1234, currency: "USD"}` → `$12.34`,
 * `123456789` → `$1,234,567.89`. Integer arithmetic only, so no float ever rounds a cent away.
 * A currency without a known symbol is written after the number (`12.34 EUR`).
 */
export function formatMoney(money: Money): string {
  const negative = money.amount < 0;
  const cents = Math.abs(Math.trunc(money.amount));
  const units = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const number = `${units}.${(cents % 100).toString().padStart(2, "0")}`;
  const symbol = SYMBOLS[money.currency];
  const text = symbol ? `${symbol}${number}` : `${number} ${money.currency}`;
  return negative ? `-${text}` : text;
}
