import { HttpProblem } from "@blossom/runtime";
import type { CardFieldError } from "../domain/card.js";

/** 400 naming each bad card field, in the platform's validation-problem shape. Never repeats a value. */
export function cardProblem(errors: CardFieldError[]): HttpProblem {
  const listed = errors.map((error) => ({ in: "body", pointer: `/${error.field}`, message: error.message }));
  const first = listed[0];
  return HttpProblem.of("validation", first ? `body${first.pointer} ${first.message}` : undefined, {
    errors: listed,
  });
}

export function invalidIdempotencyKey(): HttpProblem {
  return HttpProblem.of("validation", "headers/idempotency-key must be 1 to 255 visible ASCII characters", {
    errors: [
      { in: "headers", pointer: "/idempotency-key", message: "must be 1 to 255 visible ASCII characters" },
    ],
  });
}

export function idempotencyKeyReused(): HttpProblem {
  return new HttpProblem({
    status: 422,
    slug: "idempotency-key-reused",
    title: "The idempotency key was used for another request",
    detail: "this Idempotency-Key was already used with a different request body; use a new key",
  });
}
