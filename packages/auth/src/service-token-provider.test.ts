import { describe, expect, it } from "vitest";
import { type IssuedServiceToken, ServiceTokenProvider } from "./service-token-provider.js";

/** An issuer the test answers by hand: each fetch waits until the test resolves or fails it. */
function manualIssuer() {
  const pending: Array<{ resolve: (token: IssuedServiceToken) => void; reject: (error: Error) => void }> = [];
  let issued = 0;
  return {
    pending,
    fetchToken: () =>
      new Promise<IssuedServiceToken>((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
    /** Answers the oldest waiting fetch with token `t<n>` living `expiresIn` seconds. */
    answer(expiresIn = 300): string {
      const next = pending.shift();
      if (!next) throw new Error("no fetch is waiting");
      const accessToken = `t${++issued}`;
      next.resolve({ accessToken, expiresIn });
      return accessToken;
    },
    fail(message = "users is down"): void {
      const next = pending.shift();
      if (!next) throw new Error("no fetch is waiting");
      next.reject(new Error(message));
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("ServiceTokenProvider", () => {
  it("fetches once for many concurrent callers (single flight) and serves the cached token after", async () => {
    const issuer = manualIssuer();
    let now = 1_000_000;
    const provider = new ServiceTokenProvider({ fetchToken: issuer.fetchToken, now: () => now });
    const waiting = Array.from({ length: 10 }, () => provider.token());
    await tick();
    expect(issuer.pending).toHaveLength(1);
    issuer.answer(300);
    expect(await Promise.all(waiting)).toEqual(Array(10).fill("t1"));
    now += 200_000; // well before the refresh window (the last 60 s)
    expect(await provider.token()).toBe("t1");
    expect(provider.fetches).toBe(1);
  });

  it("refreshes ahead of expiry in the background, handing out the current token meanwhile", async () => {
    const issuer = manualIssuer();
    let now = 0;
    const provider = new ServiceTokenProvider({ fetchToken: issuer.fetchToken, now: () => now });
    const first = provider.token();
    await tick();
    issuer.answer(300);
    expect(await first).toBe("t1");

    now = 239_000; // 61 s left: not yet
    expect(await provider.token()).toBe("t1");
    expect(issuer.pending).toHaveLength(0);

    now = 241_000; // 59 s left: the refresh starts, the caller does not wait for it
    expect(await provider.token()).toBe("t1");
    expect(await provider.token()).toBe("t1");
    expect(issuer.pending).toHaveLength(1); // one refresh, however many callers
    issuer.answer(300);
    await tick();
    expect(await provider.token()).toBe("t2");
    expect(provider.fetches).toBe(2);
  });

  it("keeps the current token when a refresh fails, and tries again after the retry delay", async () => {
    const issuer = manualIssuer();
    let now = 0;
    const errors: unknown[] = [];
    const provider = new ServiceTokenProvider({
      fetchToken: issuer.fetchToken,
      now: () => now,
      retryDelayMs: 1000,
      onRefreshError: (error) => errors.push(error),
    });
    const first = provider.token();
    await tick();
    issuer.answer(300);
    await first;

    now = 250_000;
    expect(await provider.token()).toBe("t1");
    issuer.fail();
    await tick();
    expect(errors).toHaveLength(1);
    now = 250_500; // within the retry delay: no new attempt
    expect(await provider.token()).toBe("t1");
    expect(issuer.pending).toHaveLength(0);
    now = 251_100;
    expect(await provider.token()).toBe("t1");
    expect(issuer.pending).toHaveLength(1);
    issuer.answer(300);
    await tick();
    expect(await provider.token()).toBe("t2");
  });

  it("waits for a new token once the held one is about to expire, and rejects if none comes", async () => {
    const issuer = manualIssuer();
    let now = 0;
    const provider = new ServiceTokenProvider({ fetchToken: issuer.fetchToken, now: () => now });
    const first = provider.token();
    await tick();
    issuer.answer(300);
    await first;

    // 296 s in: under the 5 s margin, the token is not sent any more.
    now = 296_000;
    const failing = provider.token();
    await tick();
    issuer.fail("users is down");
    await expect(failing).rejects.toThrow("users is down");
    // The next call tries again rather than remembering the failure.
    const next = provider.token();
    await tick();
    issuer.answer(300);
    expect(await next).toBe("t2");
  });

  it("drops a token an upstream refused, and only that one", async () => {
    const issuer = manualIssuer();
    const provider = new ServiceTokenProvider({ fetchToken: issuer.fetchToken });
    const first = provider.token();
    await tick();
    issuer.answer(300);
    await first;
    provider.invalidate("some older token");
    expect(await provider.token()).toBe("t1");
    provider.invalidate("t1");
    const next = provider.token();
    await tick();
    issuer.answer(300);
    expect(await next).toBe("t2");
  });

  it("refuses an answer without a token or a lifetime", async () => {
    const provider = new ServiceTokenProvider({
      fetchToken: async () => ({ accessToken: "x", expiresIn: 0 }),
    });
    await expect(provider.token()).rejects.toThrow(/accessToken and positive expiresIn/);
  });

  it("never refreshes sooner than half a short token's life", async () => {
    const issuer = manualIssuer();
    let now = 0;
    const provider = new ServiceTokenProvider({ fetchToken: issuer.fetchToken, now: () => now });
    const first = provider.token();
    await tick();
    issuer.answer(60); // refresh ahead = min(60 s, 30 s) = 30 s
    await first;
    now = 29_000;
    await provider.token();
    expect(issuer.pending).toHaveLength(0);
    now = 31_000;
    await provider.token();
    expect(issuer.pending).toHaveLength(1);
  });
});
