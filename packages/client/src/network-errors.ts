/** How a transport failure is reported: see `UnavailableReason`. */
export interface NetworkFailure {
  reason: "connect-failed" | "connection-lost";
  /** The system or undici error code, for the message (`ECONNREFUSED`, `UND_ERR_SOCKET`, …). */
  detail: string;
}

/**
 * Codes meaning the connection never carried the request: it could not be opened, or the pool
 * refused to dispatch. Retrying those cannot duplicate anything, whatever the method.
 */
const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
]);

/** Codes of mistakes in the request we built or were given: a bug to surface, not an outage. */
const CALLER_BUG_CODES: ReadonlySet<string> = new Set([
  "UND_ERR_INVALID_ARG",
  "UND_ERR_NOT_SUPPORTED",
  "UND_ERR_INVALID_RETURN_VALUE",
]);

/**
 * Sorts an error thrown by undici while sending a request or reading its answer.
 *
 * Returns `undefined` for errors that are bugs on our side (invalid header, bad argument), which
 * the caller rethrows untouched. Any other failure is an upstream availability problem:
 * `connect-failed` when the request provably was not sent, `connection-lost` otherwise (the
 * upstream may have received and even processed it).
 */
export function classifyNetworkError(error: unknown): NetworkFailure | undefined {
  const code = codeOf(error);
  if (code !== undefined && (CALLER_BUG_CODES.has(code) || code.startsWith("ERR_INVALID"))) return undefined;
  // With autoSelectFamily, Node reports a failed multi-address connect as an AggregateError.
  if (error instanceof AggregateError) {
    const codes = error.errors.map(codeOf);
    if (codes.length > 0 && codes.every((inner) => inner !== undefined && NEVER_SENT_CODES.has(inner))) {
      return { reason: "connect-failed", detail: codes[0] ?? "connect failed" };
    }
  }
  if (code !== undefined && NEVER_SENT_CODES.has(code)) return { reason: "connect-failed", detail: code };
  return {
    reason: "connection-lost",
    detail: code ?? (error instanceof Error ? error.message : String(error)),
  };
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}
