/** How often and how patiently the dispatcher retries a failed delivery. */
export interface RetryPolicy {
  /** Attempts in all (the first one included) before a notification is marked failed. */
  readonly maxAttempts: number;
  /** Delay after the first failed attempt; doubles after each further one. */
  readonly baseDelayMs: number;
  /** The longest delay between two attempts. */
  readonly maxDelayMs: number;
  /** Spread of the random jitter around each delay (0.2 = ±20 %), so failed messages do not retry in lockstep. */
  readonly jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 8,
  baseDelayMs: 2_000,
  maxDelayMs: 10 * 60_000,
  jitter: 0.2,
});

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/**
 * What to do after attempt number `attempts` (1-based) failed: retry after an exponential delay
 * (`base · 2^(attempts-1)`, capped, jittered), or give up when the attempts are used up or the
 * failure is permanent. Pure: `random` (0 ≤ r < 1) is passed in; 0.5 means no jitter.
 */
export function afterFailure(
  policy: RetryPolicy,
  attempts: number,
  options: { permanent?: boolean; random?: number } = {},
): RetryDecision {
  if (options.permanent || attempts >= policy.maxAttempts) return { retry: false };
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, attempts - 1);
  const capped = Math.min(exponential, policy.maxDelayMs);
  const factor = 1 + policy.jitter * (2 * (options.random ?? 0.5) - 1);
  return { retry: true, delayMs: Math.max(0, Math.round(capped * factor)) };
}
