import { setTimeout as sleep } from "node:timers/promises";
import { type TestSigningKey, testSigningKey } from "@blossom/testkit";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { requiresToken } from "./edge-auth.js";
import { GatewayHarness } from "./test-harness.js";

const harness = new GatewayHarness();
afterEach(() => harness.close());

let key: TestSigningKey;
let otherKey: TestSigningKey;
beforeAll(async () => {
  key = await testSigningKey();
  otherKey = await testSigningKey();
});

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Upstreams that echo what reached them, for every prefix the gateway routes. */
async function echoPlatform(): Promise<Record<string, string[]>> {
  const echo = await harness.upstream((app) => {
    app.all("/*", async (request) => ({
      path: request.url,
      authorization: request.headers.authorization ?? null,
    }));
  });
  return Object.fromEntries(
    ["users", "inventory", "orders", "payments", "notifications"].map((service) => [service, [echo]]),
  );
}

describe("edge authentication", () => {
  it("lists public routes explicitly; everything else forwarded needs a token", () => {
    expect(requiresToken("POST", "/api/users")).toBe(false);
    expect(requiresToken("POST", "/api/auth/login")).toBe(false);
    expect(requiresToken("POST", "/api/auth/refresh")).toBe(false);
    expect(requiresToken("POST", "/api/auth/logout")).toBe(false);
    expect(requiresToken("GET", "/.well-known/jwks.json")).toBe(false);
    expect(requiresToken("GET", "/api/inventory/products?q=lamp")).toBe(false);
    expect(requiresToken("GET", "/api/inventory/products/6f1c2e0a-1b2c-4d5e-8f90-123456789abc")).toBe(false);
    expect(requiresToken("GET", "/health/ready")).toBe(false);
    expect(requiresToken("GET", "/docs")).toBe(false);
    expect(requiresToken("GET", "/openapi.json")).toBe(false);

    expect(requiresToken("GET", "/api/users/me")).toBe(true);
    expect(requiresToken("GET", "/api/users")).toBe(true);
    expect(requiresToken("POST", "/api/inventory/products")).toBe(true);
    expect(requiresToken("GET", "/api/inventory/products/1/../../../orders")).toBe(true);
    expect(requiresToken("GET", "/api/inventory/products/%2e%2e")).toBe(true);
    expect(requiresToken("GET", "/api/orders/1")).toBe(true);
    expect(requiresToken("POST", "/api/auth/login/x")).toBe(true);
  });

  it("lets public routes through without a token", async () => {
    const gateway = await harness.gateway(await echoPlatform(), { verifier: key.verifier });
    for (const [method, path] of [
      ["POST", "/api/users"],
      ["POST", "/api/auth/login"],
      ["POST", "/api/auth/refresh"],
      ["POST", "/api/auth/logout"],
      ["GET", "/.well-known/jwks.json"],
      ["GET", "/api/inventory/products?q=lamp"],
      ["GET", "/api/inventory/products/p-1"],
    ] as const) {
      const response = await fetch(`${gateway}${path}`, {
        method,
        ...(method === "POST" ? { headers: { "content-type": "application/json" }, body: "{}" } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(200);
    }
    expect((await fetch(`${gateway}/health/live`)).status).toBe(200);
  });

  it("refuses a protected route without a token: 401 problem with a Bearer challenge", async () => {
    const gateway = await harness.gateway(await echoPlatform(), { verifier: key.verifier });
    const response = await fetch(`${gateway}/api/orders/1`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="blossom"');
    expect(response.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      type: "https://blossom.dev/problems/unauthorized",
      status: 401,
    });
  });

  it("refuses alg none, another key, an expired or a malformed token with error=invalid_token", async () => {
    const gateway = await harness.gateway(await echoPlatform(), { verifier: key.verifier });
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: "u1",
      role: "admin",
      iss: "blossom-users",
      aud: "blossom",
      iat: now,
      exp: now + 600,
    };
    const tokens = {
      none: `${base64url({ alg: "none", typ: "JWT" })}.${base64url(claims)}.`,
      wrongKey: await otherKey.token({ userId: "u1" }),
      expired: await key.token({ userId: "u1" }, now - 3600),
      malformed: "not.a.jwt",
    };
    for (const [kind, token] of Object.entries(tokens)) {
      const response = await fetch(`${gateway}/api/orders/1`, { headers: bearer(token) });
      expect(response.status, kind).toBe(401);
      expect(response.headers.get("www-authenticate"), kind).toMatch(
        /^Bearer realm="blossom", error="invalid_token"/,
      );
      expect(((await response.json()) as { type: string }).type).toBe(
        "https://blossom.dev/problems/unauthorized",
      );
    }
    // A token on a public route is verified too.
    const onPublic = await fetch(`${gateway}/api/inventory/products`, { headers: bearer(tokens.wrongKey) });
    expect(onPublic.status).toBe(401);
    expect(onPublic.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
  });

  it("forwards a valid token's Authorization header unchanged (the service verifies again)", async () => {
    const gateway = await harness.gateway(await echoPlatform(), { verifier: key.verifier });
    const token = await key.token({ userId: "u1" });
    const response = await fetch(`${gateway}/api/orders/1`, { headers: bearer(token) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ path: "/api/orders/1", authorization: `Bearer ${token}` });
  });
});

describe("security headers and CORS", () => {
  it("sets API security headers on every answer, errors included", async () => {
    const gateway = await harness.gateway(await echoPlatform(), { verifier: key.verifier });
    for (const path of ["/api/inventory/products", "/api/orders/1", "/nowhere"]) {
      const response = await fetch(`${gateway}${path}`);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("strict-transport-security"), path).toMatch(/max-age=/);
      expect(response.headers.get("x-frame-options"), path).toBe("SAMEORIGIN");
      expect(response.headers.get("content-security-policy"), path).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
      expect(response.headers.get("x-powered-by"), path).toBeNull();
    }
  });

  it("gives the docs page a policy that lets it load its own scripts and styles", async () => {
    const gateway = await harness.gateway(await echoPlatform(), { verifier: key.verifier });
    const docs = await fetch(`${gateway}/docs`, { redirect: "manual" });
    expect(docs.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect(docs.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("allows only the listed origins", async () => {
    const gateway = await harness.gateway(await echoPlatform(), {
      verifier: key.verifier,
      corsOrigins: ["https://shop.example"],
    });
    const allowed = await fetch(`${gateway}/api/inventory/products`, {
      headers: { origin: "https://shop.example" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    const other = await fetch(`${gateway}/api/inventory/products`, {
      headers: { origin: "https://evil.example" },
    });
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();

    // A preflight for a protected route needs no token; it is answered for the allowed origin only.
    const preflight = (origin: string) =>
      fetch(`${gateway}/api/orders`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
    const ok = await preflight("https://shop.example");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows no cross-origin access by default", async () => {
    const gateway = await harness.gateway(await echoPlatform(), { verifier: key.verifier });
    const response = await fetch(`${gateway}/api/inventory/products`, {
      headers: { origin: "https://shop.example" },
    });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("rate limiting", () => {
  it("answers 429 problem+json with Retry-After and RateLimit-* headers past the budget", async () => {
    const gateway = await harness.gateway(await echoPlatform(), {
      verifier: key.verifier,
      rateLimit: { perMinute: 5 },
    });
    const first = await fetch(`${gateway}/api/inventory/products`);
    expect(first.headers.get("ratelimit-limit")).toBe("5");
    expect(first.headers.get("ratelimit-remaining")).toBe("4");
    expect(Number(first.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${gateway}/api/inventory/products`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const refused = await fetch(`${gateway}/api/inventory/products`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("ratelimit-limit")).toBe("5");
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(refused.headers.get("ratelimit-reset")).toEqual(expect.any(String));
    expect(await refused.json()).toMatchObject({
      type: "https://blossom.dev/problems/rate-limited",
      status: 429,
    });
    // Probes are never limited.
    expect((await fetch(`${gateway}/health/live`)).status).toBe(200);
  });

  it("limits login attempts per IP more strictly than the rest", async () => {
    const gateway = await harness.gateway(await echoPlatform(), {
      verifier: key.verifier,
      rateLimit: { perMinute: 50, loginPerMinute: 3 },
    });
    const login = () =>
      fetch(`${gateway}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }).then((response) => response.status);
    expect([await login(), await login(), await login(), await login()]).toEqual([200, 200, 200, 429]);
    // The rest of the API keeps its own, larger budget.
    const other = await fetch(`${gateway}/api/inventory/products`);
    expect(other.status).toBe(200);
    expect(other.headers.get("ratelimit-limit")).toBe("50");
  });

  it("gives each signed-in user its own budget, even behind one IP", async () => {
    const gateway = await harness.gateway(await echoPlatform(), {
      verifier: key.verifier,
      rateLimit: { perMinute: 3 },
    });
    const ann = bearer(await key.token({ userId: "ann" }));
    const bob = bearer(await key.token({ userId: "bob" }));
    const call = (headers: Record<string, string>) =>
      fetch(`${gateway}/api/orders`, { headers }).then((response) => response.status);
    expect([await call(ann), await call(ann), await call(ann), await call(ann)]).toEqual([
      200, 200, 200, 429,
    ]);
    expect([await call(bob), await call(bob), await call(bob)]).toEqual([200, 200, 200]);
    // Anonymous calls from the same IP have their own budget as well.
    expect((await fetch(`${gateway}/api/inventory/products`)).status).toBe(200);
  });

  it("keys anonymous callers by X-Forwarded-For only when it comes from a trusted proxy", async () => {
    const platform = await echoPlatform();
    const call = (gateway: string, client: string) =>
      fetch(`${gateway}/api/inventory/products`, { headers: { "x-forwarded-for": client } }).then(
        (response) => response.status,
      );
    // Behind a trusted proxy (here: this test, on 127.0.0.1), each client has its own budget.
    const behindProxy = await harness.gateway(platform, {
      verifier: key.verifier,
      rateLimit: { perMinute: 2 },
      trustedProxies: ["127.0.0.1", "::1"],
    });
    expect([await call(behindProxy, "203.0.113.1"), await call(behindProxy, "203.0.113.1")]).toEqual([
      200, 200,
    ]);
    expect(await call(behindProxy, "203.0.113.1")).toBe(429);
    expect(await call(behindProxy, "203.0.113.2")).toBe(200);
    // Trusting nobody (the default), a forged header buys no new budget.
    const direct = await harness.gateway(platform, { verifier: key.verifier, rateLimit: { perMinute: 2 } });
    expect([await call(direct, "198.51.100.1"), await call(direct, "198.51.100.2")]).toEqual([200, 200]);
    expect(await call(direct, "198.51.100.3")).toBe(429);
  });

  it("refuses to start when the configured Redis cannot be reached", async () => {
    await expect(
      harness.gateway({}, { verifier: key.verifier, rateLimit: { redisUrl: "redis://127.0.0.1:1" } }),
    ).rejects.toThrow(/Redis/);
  });

  it("limits before authenticating: a flood of bad tokens is refused 429 per IP", async () => {
    const gateway = await harness.gateway(await echoPlatform(), {
      verifier: key.verifier,
      rateLimit: { perMinute: 2 },
    });
    const forged = bearer(await otherKey.token({ userId: "mallory" }));
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await fetch(`${gateway}/api/orders`, { headers: forged })).status);
    expect(statuses).toEqual([401, 401, 429]);
  });
});

describe("upstream concurrency", () => {
  it("sends a burst past overloadConcurrency at once while the queue does not stand (up to the instance's connections)", async () => {
    const release: Array<() => void> = [];
    const slow = await harness.upstream((app) => {
      app.get(
        "/api/payments",
        () => new Promise<{ ok: true }>((resolve) => release.push(() => resolve({ ok: true }))),
      );
    });
    const gateway = await harness.gateway(
      { payments: [slow] },
      { verifier: key.verifier, overloadConcurrency: 2 },
      5000,
    );
    const auth = bearer(await key.token({ userId: "u1" }));
    // Five at once on a quiet gateway: all reach the upstream (none waits in the gateway's queue).
    const burst = [1, 2, 3, 4, 5].map(() => fetch(`${gateway}/api/payments`, { headers: auth }));
    while (release.length < 5) await sleep(5);
    for (const done of release) done();
    expect((await Promise.all(burst)).map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
  });
});

describe("bulkhead", () => {
  it("answers 503 at once when a service has too many requests in flight; other services stay fast", async () => {
    const release: Array<() => void> = [];
    const slow = await harness.upstream((app) => {
      app.get(
        "/api/payments",
        () => new Promise<{ ok: true }>((resolve) => release.push(() => resolve({ ok: true }))),
      );
    });
    const fast = await harness.upstream((app) => {
      app.get("/api/inventory/products", async () => ({ items: [] }));
    });
    const gateway = await harness.gateway(
      { payments: [slow], inventory: [fast] },
      { verifier: key.verifier, maxInFlightPerService: 2 },
      5000,
    );
    const auth = bearer(await key.token({ userId: "u1" }));
    const held = [1, 2].map(() => fetch(`${gateway}/api/payments`, { headers: auth }));
    while (release.length < 2) await sleep(5);

    const started = performance.now();
    const excess = await fetch(`${gateway}/api/payments`, { headers: auth });
    expect(excess.status).toBe(503);
    expect(excess.headers.get("retry-after")).toBe("1");
    expect((await excess.json()) as { type: string; detail: string }).toMatchObject({
      type: "https://blossom.dev/problems/service-unavailable",
      detail: expect.stringContaining("payments"),
    });
    const other = await fetch(`${gateway}/api/inventory/products`);
    expect(other.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(500);

    for (const done of release) done();
    expect((await Promise.all(held)).map((response) => response.status)).toEqual([200, 200]);
    // The slots are free again.
    const after = fetch(`${gateway}/api/payments`, { headers: auth });
    while (release.length < 3) await sleep(5);
    release[2]?.();
    expect((await after).status).toBe(200);
  });
});
