import { randomUUID } from "node:crypto";
import { callHttp } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";

/**
 * The users service's cookie mode for browsers (services/users/src/api/refresh-cookie.ts),
 * through the gateway as the storefront uses it: the refresh token only ever in an HttpOnly;
 * Secure; SameSite=Strict cookie scoped to /api/auth, rotated on each refresh, cleared on logout;
 * the JSON mode unchanged for API clients.
 */

const COOKIE =
  /^blossom_refresh=([A-Za-z0-9_-]{43}); Path=\/api\/auth; Max-Age=(\d+); HttpOnly; Secure; SameSite=Strict$/;
const PREFER = { prefer: "refresh-token=cookie" };

function cookieOf(headers: Headers): { token: string; maxAge: number } | undefined {
  const [set] = headers.getSetCookie();
  const match = set ? COOKIE.exec(set) : null;
  return match ? { token: match[1] as string, maxAge: Number(match[2]) } : undefined;
}

describe("refresh-token cookie mode (users, through the gateway)", () => {
  let platform: TestPlatform;
  let gateway: string;
  const password = "correct horse battery";

  async function signUp(): Promise<string> {
    const email = `cookie-${randomUUID()}@example.com`;
    expect(
      (await callHttp(gateway, "POST", "/api/users", { body: { email, password, name: "Cookie" } })).status,
    ).toBe(201);
    return email;
  }

  beforeAll(async () => {
    platform = await startTestPlatform({}, undefined, ["gateway", "users"]);
    gateway = platform.gateway;
  }, 120_000);
  afterAll(async () => {
    await platform?.destroy();
  });

  it("login with Prefer: refresh-token=cookie sets the cookie and leaves the token out of the body", async () => {
    const email = await signUp();
    const login = await callHttp<Record<string, unknown>>(gateway, "POST", "/api/auth/login", {
      body: { email, password },
      headers: PREFER,
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ accessToken: expect.any(String), tokenType: "Bearer" });
    expect(login.body).not.toHaveProperty("refreshToken");
    expect(login.headers.get("preference-applied")).toBe("refresh-token=cookie");
    expect(login.headers.get("cache-control")).toBe("no-store");
    const cookie = cookieOf(login.headers);
    expect(cookie?.maxAge).toBe(30 * 24 * 3600);
  });

  it("refresh from the cookie rotates it; the spent cookie is refused, and cleared", async () => {
    const email = await signUp();
    const login = await callHttp(gateway, "POST", "/api/auth/login", {
      body: { email, password },
      headers: PREFER,
    });
    const first = cookieOf(login.headers)?.token as string;
    const refreshed = await callHttp<Record<string, unknown>>(gateway, "POST", "/api/auth/refresh", {
      body: {},
      headers: {
        cookie: `other=1; blossom_refresh=${first}`,
      },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ accessToken: expect.any(String), tokenType: "Bearer" });
    expect(refreshed.body).not.toHaveProperty("refreshToken");
    const second = cookieOf(refreshed.headers)?.token;
    expect(second).toBeDefined();
    expect(second).not.toBe(first);

    const reused = await callHttp<{ type: string }>(gateway, "POST", "/api/auth/refresh", {
      body: {},
      headers: {
        cookie: `blossom_refresh=${first}`,
      },
    });
    expect(reused.status).toBe(401);
    expect(reused.body.type).toMatch(/invalid-refresh-token$/);
    expect(reused.headers.getSetCookie()).toEqual([
      "blossom_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
    ]);
  });

  it("logout from the cookie revokes the family and clears the cookie", async () => {
    const email = await signUp();
    const login = await callHttp(gateway, "POST", "/api/auth/login", {
      body: { email, password },
      headers: PREFER,
    });
    const token = cookieOf(login.headers)?.token as string;
    const logout = await callHttp(gateway, "POST", "/api/auth/logout", {
      body: {},
      headers: { cookie: `blossom_refresh=${token}` },
    });
    expect(logout.status).toBe(204);
    expect(logout.headers.getSetCookie()).toEqual([
      "blossom_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
    ]);
    const after = await callHttp(gateway, "POST", "/api/auth/refresh", {
      body: {},
      headers: { cookie: `blossom_refresh=${token}` },
    });
    expect(after.status).toBe(401);
  });

  it("answers a cookie-mode refresh without any cookie (it expired) with 401, not 400", async () => {
    const refresh = await callHttp<{ type: string }>(gateway, "POST", "/api/auth/refresh", {
      body: {},
      headers: PREFER,
    });
    expect(refresh.status).toBe(401);
    expect(refresh.body.type).toMatch(/\/invalid-refresh-token$/);
  });

  it("keeps the JSON mode for API clients: the token in the body, no cookie; neither is 400", async () => {
    const email = await signUp();
    const login = await callHttp<{ refreshToken: string }>(gateway, "POST", "/api/auth/login", {
      body: {
        email,
        password,
      },
    });
    expect(login.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(login.headers.getSetCookie()).toEqual([]);
    const refreshed = await callHttp<{ refreshToken: string }>(gateway, "POST", "/api/auth/refresh", {
      body: {
        refreshToken: login.body.refreshToken,
      },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(refreshed.headers.getSetCookie()).toEqual([]);
    const missing = await callHttp<{ errors: Array<{ missing?: string }> }>(
      gateway,
      "POST",
      "/api/auth/refresh",
      { body: {} },
    );
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]?.missing).toBe("refreshToken");
    expect((await callHttp(gateway, "POST", "/api/auth/logout", { body: {} })).status).toBe(400);
    // A cookie that is not one of ours is no token at all.
    expect(
      (
        await callHttp(gateway, "POST", "/api/auth/refresh", {
          body: {},
          headers: { cookie: "blossom_refresh=a b" },
        })
      ).status,
    ).toBe(400);
  });
});
