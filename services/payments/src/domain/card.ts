/**
 * Card checks done before a card reaches the provider: digits only, length, Luhn, brand, expiry,
 * cvc. Pure functions; nothing here stores or logs a card number, and no message repeats one.
 */

export type CardBrand =
  | "visa"
  | "mastercard"
  | "amex"
  | "discover"
  | "diners"
  | "jcb"
  | "unionpay"
  | "unknown";

/** The card as the client sends it. Lives only for the request; never stored, never logged. */
export interface CardInput {
  cardNumber: string;
  expMonth: number;
  expYear: number;
  cvc: string;
}

export type CardField = keyof CardInput;

export interface CardFieldError {
  field: CardField;
  message: string;
}

const DIGITS = /^[0-9]+$/;

export const MIN_CARD_DIGITS = 12;
export const MAX_CARD_DIGITS = 19;
/** A card valid further ahead than this is a typing mistake, not a card. */
export const MAX_YEARS_AHEAD = 20;

export function isDigits(value: string): boolean {
  return DIGITS.test(value);
}

/** The Luhn (mod 10) checksum of a digit string. */
export function luhnValid(digits: string): boolean {
  if (!isDigits(digits)) return false;
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index--) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The brand from the issuer prefix (IIN ranges of the major networks). */
export function detectBrand(digits: string): CardBrand {
  const prefix = (length: number) => Number(digits.slice(0, length));
  if (/^4/.test(digits)) return "visa";
  if (/^3[47]/.test(digits)) return "amex";
  if ((prefix(2) >= 51 && prefix(2) <= 55) || (prefix(4) >= 2221 && prefix(4) <= 2720)) return "mastercard";
  if (/^(6011|65|64[4-9])/.test(digits) || (prefix(6) >= 622126 && prefix(6) <= 622925)) return "discover";
  if (/^(30[0-5]|309|36|38|39)/.test(digits)) return "diners";
  if (prefix(4) >= 3528 && prefix(4) <= 3589) return "jcb";
  if (/^62/.test(digits)) return "unionpay";
  return "unknown";
}

export function last4(digits: string): string {
  return digits.slice(-4);
}

/** A card is valid through the last day of its expiry month (UTC). */
export function isExpired(expMonth: number, expYear: number, now: Date): boolean {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() + 1;
  return expYear < year || (expYear === year && expMonth < month);
}

/** Every problem with the card, at most one per field, in field order. Empty when the card is acceptable. */
export function validateCard(card: CardInput, now: Date): CardFieldError[] {
  const errors: CardFieldError[] = [];
  const { cardNumber, expMonth, expYear, cvc } = card;

  let brand: CardBrand = "unknown";
  if (!isDigits(cardNumber)) {
    errors.push({ field: "cardNumber", message: "must contain only digits" });
  } else if (cardNumber.length < MIN_CARD_DIGITS || cardNumber.length > MAX_CARD_DIGITS) {
    errors.push({
      field: "cardNumber",
      message: `must have ${MIN_CARD_DIGITS} to ${MAX_CARD_DIGITS} digits`,
    });
  } else if (!luhnValid(cardNumber)) {
    errors.push({ field: "cardNumber", message: "is not a valid card number (Luhn check failed)" });
  } else {
    brand = detectBrand(cardNumber);
  }

  const monthValid = Number.isInteger(expMonth) && expMonth >= 1 && expMonth <= 12;
  const currentYear = now.getUTCFullYear();
  if (!monthValid) errors.push({ field: "expMonth", message: "must be a month from 1 to 12" });
  if (!Number.isInteger(expYear) || expYear < 1000 || expYear > 9999) {
    errors.push({ field: "expYear", message: "must be a four-digit year" });
  } else if (expYear < currentYear) {
    errors.push({ field: "expYear", message: "is in the past: the card has expired" });
  } else if (expYear > currentYear + MAX_YEARS_AHEAD) {
    errors.push({ field: "expYear", message: `must be at most ${MAX_YEARS_AHEAD} years ahead` });
  } else if (monthValid && isExpired(expMonth, expYear, now)) {
    errors.push({ field: "expMonth", message: "is in the past: the card has expired" });
  }

  const cvcLength = brand === "amex" ? 4 : brand === "unknown" ? undefined : 3;
  if (!isDigits(cvc)) {
    errors.push({ field: "cvc", message: "must contain only digits" });
  } else if (cvcLength !== undefined && cvc.length !== cvcLength) {
    errors.push({ field: "cvc", message: `must have ${cvcLength} digits for this card` });
  } else if (cvc.length < 3 || cvc.length > 4) {
    errors.push({ field: "cvc", message: "must have 3 or 4 digits" });
  }
  return errors;
}
