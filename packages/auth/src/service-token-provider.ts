/** A service token as the users service issues it (`POST /internal/auth/service-token`). */
export interface IssuedServiceToken {
  accessToken: string;
  /** Seconds the token lives from its issue. */
  expiresIn: number;
}

export interface ServiceTokenProviderOptions {
  /** Asks the issuer for a new token (the calling service's name and credential are its business). */
  fetchToken: () => Promise<IssuedServiceToken>;
  /**
   * How long before expiry a new token is fetched, while the current one keeps being used.
   * Default 60 s, and never more than half the token's lifetime.
   */
  refreshAheadMs?: number;
  /** After a failed refresh ahead of expiry, how long before the next attempt. Default 1 s. */
  retryDelayMs?: number;
  /** Told about a refresh ahead of expiry that failed (the current token is still used). */
  onRefreshError?: (error: unknown) => void;
  /** The clock, in ms (tests move it). Default `Date.now`. */
  now?: () => number;
}

interface Held {
  token: string;
  /** From here on, a new token is fetched in the background. */
  refreshAt: number;
  /** Past this, the token is not sent any more (it could expire on its way). */
  usableUntil: number;
}

/**
 * The client side of service tokens: fetches the calling service's token once, hands it to
 * every outgoing call, and replaces it before it expires. At most one fetch is in flight at a
 * time, however many calls wait for it (single flight).
 *
 * - No token yet, or the held one is (almost) expired: the call waits for a fetch.
 * - Within `refreshAheadMs` of expiry: the call gets the held token at once and a fetch runs in
 *   the background; if that fails, the held token serves on and a later call tries again.
 * - `invalidate(token)` drops a token an upstream refused (keys rotated, issuer restarted), so
 *   the next call fetches a new one.
 *
 * Lifetimes are measured on this process's clock from the moment the fetch started, so a slow
 * answer or a skewed issuer clock makes the token retire early, never late.
 */
export class ServiceTokenProvider {
  readonly #fetchToken: () => Promise<IssuedServiceToken>;
  readonly #refreshAheadMs: number;
  readonly #retryDelayMs: number;
  readonly #onRefreshError: (error: unknown) => void;
  readonly #now: () => number;
  #held: Held | undefined;
  #inflight: Promise<string> | undefined;
  #nextBackgroundAttempt = 0;
  #fetches = 0;

  constructor(options: ServiceTokenProviderOptions) {
    this.#fetchToken = options.fetchToken;
    this.#refreshAheadMs = options.refreshAheadMs ?? 60_000;
    this.#retryDelayMs = options.retryDelayMs ?? 1000;
    this.#onRefreshError = options.onRefreshError ?? (() => {});
    this.#now = options.now ?? Date.now;
  }

  /** How many tokens were asked for so far (figures for tests and metrics). */
  get fetches(): number {
    return this.#fetches;
  }

  /** A token to send now. Rejects only when no usable token is held and the fetch fails. */
  async token(): Promise<string> {
    const now = this.#now();
    const held = this.#held;
    if (held && now < held.usableUntil) {
      if (now >= held.refreshAt && !this.#inflight && now >= this.#nextBackgroundAttempt) {
        this.#fetch().catch((error: unknown) => {
          this.#nextBackgroundAttempt = this.#now() + this.#retryDelayMs;
          this.#onRefreshError(error);
        });
      }
      return held.token;
    }
    return this.#fetch();
  }

  /** Forgets `token` if it is the one held (an upstream refused it): the next call fetches anew. */
  invalidate(token: string): void {
    if (this.#held?.token === token) this.#held = undefined;
  }

  #fetch(): Promise<string> {
    this.#inflight ??= (async () => {
      try {
        const started = this.#now();
        this.#fetches++;
        const issued = await this.#fetchToken();
        if (
          typeof issued?.accessToken !== "string" ||
          !(Number.isFinite(issued.expiresIn) && issued.expiresIn > 0)
        ) {
          throw new Error("the service token answer has no accessToken and positive expiresIn");
        }
        const lifetimeMs = issued.expiresIn * 1000;
        const expiresAt = started + lifetimeMs;
        this.#held = {
          token: issued.accessToken,
          refreshAt: expiresAt - Math.min(this.#refreshAheadMs, lifetimeMs / 2),
          // A margin for the trip to the upstream, so no token expires on its way there.
          usableUntil: expiresAt - Math.min(5000, lifetimeMs / 10),
        };
        return issued.accessToken;
      } finally {
        this.#inflight = undefined;
      }
    })();
    return this.#inflight;
  }
}
