import { HttpProblem } from "@blossom/runtime";

const CHALLENGE = { "www-authenticate": 'Bearer realm="blossom"' };

export function emailTaken(email: string): HttpProblem {
  return new HttpProblem({
    status: 409,
    slug: "email-taken",
    title: "Email already registered",
    detail: `${email} already has an account`,
  });
}

/** The one answer to a failed login: the same for an unknown email and a wrong password. */
export function invalidCredentials(): HttpProblem {
  return new HttpProblem({
    status: 401,
    slug: "invalid-credentials",
    title: "Invalid credentials",
    detail: "The email or the password is not correct.",
    headers: CHALLENGE,
  });
}

/** The one answer to a refused refresh token, whatever the reason (unknown, expired, spent, revoked). */
export function invalidRefreshToken(): HttpProblem {
  return new HttpProblem({
    status: 401,
    slug: "invalid-refresh-token",
    title: "Invalid refresh token",
    detail: "The refresh token is not valid (any more): sign in again.",
    headers: CHALLENGE,
  });
}

/** The one answer to a refused service credential (wrong for the named service, or for any). */
export function invalidServiceCredential(): HttpProblem {
  return new HttpProblem({
    status: 401,
    slug: "invalid-service-credential",
    title: "Invalid service credential",
    detail: "The credential is not the named service's.",
    headers: CHALLENGE,
  });
}

/** A valid token for an account that no longer exists. */
export function unknownAccount(): HttpProblem {
  return new HttpProblem({
    status: 401,
    slug: "unauthorized",
    title: "Authentication is required",
    detail: "the token's account no longer exists",
    headers: {
      "www-authenticate": `Bearer realm="blossom", error="invalid_token", error_description="the token's account no longer exists"`,
    },
  });
}

/**
 * A login or sign-up refused by the service's own limits, before any password is checked or
 * hashed: 429 `rate-limited` (the gateway's type) with `Retry-After`. A refused login gets this
 * same answer whether its password was right or wrong, and whichever limit refused it.
 */
export function tooManyAttempts(what: "login" | "sign-up", retryAfterSeconds: number): HttpProblem {
  return new HttpProblem({
    status: 429,
    slug: "rate-limited",
    title: "Too many requests",
    detail:
      what === "login"
        ? `Too many failed sign-in attempts; retry in ${retryAfterSeconds} s.`
        : `Too many sign-ups from this address; retry in ${retryAfterSeconds} s.`,
    headers: { "retry-after": String(retryAfterSeconds) },
  });
}

/**
 * A sign-up or login shed because password hashing is saturated (its queue is full, or the wait
 * would exceed the route's budget): answered before anything was counted or written, so a retry
 * after `Retry-After` is safe.
 */
export function hashingOverloaded(retryAfterSeconds: number): HttpProblem {
  return new HttpProblem({
    status: 503,
    slug: "service-unavailable",
    title: "Service unavailable",
    detail: `Too many sign-ins and sign-ups are being processed; nothing was done. Retry in ${retryAfterSeconds} s.`,
    headers: { "retry-after": String(retryAfterSeconds) },
  });
}
