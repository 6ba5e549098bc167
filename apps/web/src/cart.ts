import { useSyncExternalStore } from "react";
import type { Money } from "./api/types.js";

/**
 * The cart, in localStorage so that it survives a reload: product ids and quantities, with the
 * name and price seen when added (for display only: the server prices the order at checkout).
 * Nothing else of the shop is stored in the browser, and never a token.
 */
export interface CartLine {
  productId: string;
  name: string;
  price: Money;
  quantity: number;
}

const KEY = "blossom.cart.v1";
const listeners = new Set<() => void>();
let cached: CartLine[] | undefined;

function read(): CartLine[] {
  if (cached) return cached;
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? "[]") as unknown;
    cached = Array.isArray(parsed) ? (parsed as CartLine[]).filter((line) => line && line.quantity > 0) : [];
  } catch {
    cached = [];
  }
  return cached;
}

function write(lines: CartLine[]): void {
  cached = lines;
  localStorage.setItem(KEY, JSON.stringify(lines));
  for (const listener of listeners) listener();
}

// Another tab changed the cart.
window.addEventListener("storage", (event) => {
  if (event.key !== KEY) return;
  cached = undefined;
  for (const listener of listeners) listener();
});

export function useCart(): CartLine[] {
  return useSyncExternalStore((listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, read);
}

export const MAX_QUANTITY = 100;

export function addToCart(line: Omit<CartLine, "quantity">, quantity = 1): void {
  const lines = read();
  const existing = lines.find((item) => item.productId === line.productId);
  write(
    existing
      ? lines.map((item) =>
          item.productId === line.productId
            ? { ...item, ...line, quantity: Math.min(MAX_QUANTITY, item.quantity + quantity) }
            : item,
        )
      : [...lines, { ...line, quantity }],
  );
}

export function setQuantity(productId: string, quantity: number): void {
  write(
    read()
      .map((item) =>
        item.productId === productId ? { ...item, quantity: Math.min(MAX_QUANTITY, quantity) } : item,
      )
      .filter((item) => item.quantity > 0),
  );
}

export function clearCart(): void {
  write([]);
}

export function cartCount(lines: CartLine[]): number {
  return lines.reduce((sum, line) => sum + line.quantity, 0);
}

export function cartTotal(lines: CartLine[]): Money {
  return { amount: lines.reduce((sum, line) => sum + line.price.amount * line.quantity, 0), currency: "USD" };
}
