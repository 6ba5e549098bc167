import { randomUUID } from "node:crypto";
import { callHttp, type HttpAnswer } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callAs, type SecurityPlatform, startSecurityPlatform } from "./security-platform.js";

/**
 * OWASP API4 (unrestricted resource consumption): the gateway, the platform's only public door,
 * on low budgets — 20 requests a minute per client (user or IP), 3 login attempts a minute per
 * IP. A burst past them is 429 problem+json with Retry-After and RateLimit-* headers; a brute
 * force is cut off even when it finally guesses right. Behind it, the users service limits
 * logins and sign-ups itself, wherever the request enters: 5 failures per account and client
 * address, then a lock of 2 s (short, to be waited out here), and 3 sign-ups per address. The
 * gateway and users trust the proxy before them on loopback, so a client's X-Forwarded-For
 * address reaches the users service as the client address.
 */
const PER_MINUTE = 20;
const LOGINS_PER_MINUTE = 3;
const USERS_MAX_FAILURES = 5;
const USERS_LOCK_SECONDS = 2;
const SIGNUPS_PER_ADDRESS = 3;
const PASSWORD = "correct horse battery";

let sp: SecurityPlatform;
let email: string;
let token: string;

function burst(count: number, send: () => Promise<HttpAnswer>): Promise<HttpAnswer[]> {
  return Promise.all(Array.from({ length: count }, send));
}

function statuses(answers: HttpAnswer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const answer of answers) counts[answer.status] = (counts[answer.status] ?? 0) + 1;
  return counts;
}

function expectThrottled(answer: HttpAnswer, limit: number): void {
  expect(answer.status).toBe(429);
  expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ type: "https://blossom.dev/problems/rate-limited", status: 429 });
  const retryAfter = Number(answer.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(answer.headers.get("ratelimit-limit")).toBe(String(limit));
  expect(answer.headers.get("ratelimit-remaining")).toBe("0");
  expect(Number(answer.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
}

beforeAll(async () => {
  sp = await startSecurityPlatform(
    {
      GATEWAY_RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
      GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE: String(LOGINS_PER_MINUTE),
      GATEWAY_TRUSTED_PROXIES: "127.0.0.1",
      USERS_TRUSTED_PROXIES: "127.0.0.1",
      USERS_LOGIN_MAX_FAILURES: String(USERS_MAX_FAILURES),
      USERS_LOGIN_LOCK_SECONDS: String(USERS_LOCK_SECONDS),
      USERS_LOGIN_ADDRESS_MAX_FAILURES: "30",
      USERS_SIGNUP_MAX_PER_ADDRESS: String(SIGNUPS_PER_ADDRESS),
    },
    ["gateway", "users", "inventory"],
  );
  // Set up behind the gateway, so that no budget is spent before the tests.
  email = `ann-${randomUUID()}@example.com`;
  const users = sp.service("users");
  expect(
    (await callHttp(users, "POST", "/api/users", { body: { email, password: PASSWORD, name: "Ann" } }))
      .status,
  ).toBe(201);
  token = (
    await callHttp<{ accessToken: string }>(users, "POST", "/api/auth/login", {
      body: { email, password: PASSWORD },
    })
  ).body.accessToken;
}, 120_000);
afterAll(async () => {
  await sp?.destroy();
});

describe("API4: rate limiting at the gateway", () => {
  it("a burst of anonymous calls past the budget: exactly the budget is served, the rest is 429 with Retry-After and RateLimit-*", async () => {
    const answers = await burst(PER_MINUTE + 10, () =>
      callHttp(sp.gateway, "GET", "/api/inventory/products?limit=1"),
    );
    expect(statuses(answers)).toEqual({ 200: PER_MINUTE, 429: 10 });
    const served = answers.find((answer) => answer.status === 200) as HttpAnswer;
    expect(served.headers.get("ratelimit-limit")).toBe(String(PER_MINUTE));
    for (const refused of answers.filter((answer) => answer.status === 429))
      expectThrottled(refused, PER_MINUTE);
  });

  it("a signed-in user has a budget of their own: spent anonymous budget does not stop them, their burst is cut at it", async () => {
    const answers = await burst(PER_MINUTE + 5, () => callAs(token, sp.gateway, "GET", "/api/users/me"));
    expect(statuses(answers)).toEqual({ 200: PER_MINUTE, 429: 5 });
    for (const refused of answers.filter((answer) => answer.status === 429))
      expectThrottled(refused, PER_MINUTE);
  });

  it("password guessing is cut off after the login budget, even when the right password comes", async () => {
    // One after the other, as a guesser waiting for each answer would (and each is a slow scrypt).
    const guesses: HttpAnswer[] = [];
    for (let guess = 0; guess < LOGINS_PER_MINUTE + 2; guess++)
      guesses.push(
        await callHttp(sp.gateway, "POST", "/api/auth/login", {
          body: { email, password: `wrong guess ${guess}` },
        }),
      );
    expect(guesses.map((answer) => answer.status)).toEqual([...Array(LOGINS_PER_MINUTE).fill(401), 429, 429]);
    const right = await callHttp(sp.gateway, "POST", "/api/auth/login", {
      body: { email, password: PASSWORD },
    });
    expectThrottled(right, LOGINS_PER_MINUTE);
  });

  it("other services do not limit: their budgets live at the gateway, the only door the platform exposes", async () => {
    // Straight at a service port (inside the network) the same burst is all served: a
    // deployment must keep those ports private. This documents that boundary.
    const catalog = await burst(PER_MINUTE + 10, () =>
      callHttp(sp.service("inventory"), "GET", "/api/inventory/products?limit=1"),
    );
    expect(statuses(catalog)).toEqual({ 200: PER_MINUTE + 10 });
    expect(catalog[0]?.headers.get("ratelimit-limit")).toBeNull();
  });
});

describe("API4: the users service limits logins and sign-ups itself", () => {
  function expectLocked(answer: HttpAnswer): void {
    expect(answer.status).toBe(429);
    expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ type: "https://blossom.dev/problems/rate-limited", status: 429 });
    const retryAfter = Number(answer.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(USERS_LOCK_SECONDS);
  }

  it("15 wrong passwords straight at the users port, then the right one: refused while locked, accepted once the lock ends; the owner on their own address was never locked out", async () => {
    const users = sp.service("users");
    const bob = `bob-${randomUUID()}@example.com`;
    expect(
      (await callHttp(users, "POST", "/api/users", { body: { email: bob, password: PASSWORD, name: "Bob" } }))
        .status,
    ).toBe(201);
    const guesses: HttpAnswer[] = [];
    for (let guess = 0; guess < 15; guess++)
      guesses.push(
        await callHttp(users, "POST", "/api/auth/login", {
          body: { email: bob, password: `wrong guess ${guess}` },
        }),
      );
    expect(guesses.map((answer) => answer.status)).toEqual([
      ...Array(USERS_MAX_FAILURES).fill(401),
      ...Array(15 - USERS_MAX_FAILURES).fill(429),
    ]);
    const right = await callHttp(users, "POST", "/api/auth/login", {
      body: { email: bob, password: PASSWORD },
    });
    expectLocked(right);
    // The same answer as a wrong guess: the lock tells nothing about the password.
    const { requestId: _right, ...rightBody } = right.body as Record<string, unknown>;
    const { requestId: _wrong, ...wrongBody } = (guesses.at(-1) as HttpAnswer).body as Record<
      string,
      unknown
    >;
    expect(rightBody).toEqual(wrongBody);

    // Meanwhile Bob, through the gateway from his own address, signs in: the lock is the
    // attacker's address's, not the account's.
    const own = await callHttp(sp.gateway, "POST", "/api/auth/login", {
      body: { email: bob, password: PASSWORD },
      headers: { "x-forwarded-for": "203.0.113.7" },
    });
    expect(own.status).toBe(200);

    await new Promise((done) => setTimeout(done, USERS_LOCK_SECONDS * 1000 + 200));
    expect(
      (await callHttp(users, "POST", "/api/auth/login", { body: { email: bob, password: PASSWORD } })).status,
    ).toBe(200);
  });

  it("sign-ups from one address: the budget, then 429 with Retry-After through the gateway; another address goes on", async () => {
    const from = { "x-forwarded-for": "198.51.100.20" };
    const signUp = (headers: Record<string, string>) =>
      callHttp(sp.gateway, "POST", "/api/users", {
        body: { email: `carol-${randomUUID()}@example.com`, password: PASSWORD, name: "Carol" },
        headers,
      });
    const answers: HttpAnswer[] = [];
    for (let i = 0; i <= SIGNUPS_PER_ADDRESS; i++) answers.push(await signUp(from));
    expect(answers.map((answer) => answer.status)).toEqual([...Array(SIGNUPS_PER_ADDRESS).fill(201), 429]);
    const refused = answers.at(-1) as HttpAnswer;
    expect(refused.body).toMatchObject({ type: "https://blossom.dev/problems/rate-limited", status: 429 });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await signUp({ "x-forwarded-for": "198.51.100.21" })).status).toBe(201);
  });
});
