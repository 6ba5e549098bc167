import { type TestSigningKey, testSigningKey } from "@blossom/testkit";
import { Client } from "undici";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { canonicalPath } from "./canonical-path.js";
import { GatewayHarness } from "./test-harness.js";

const harness = new GatewayHarness();
afterEach(() => harness.close());

let key: TestSigningKey;
beforeAll(async () => {
  key = await testSigningKey();
});

describe("canonical path", () => {
  it("decodes encoded unreserved characters and upper-cases the other escapes", () => {
    expect(canonicalPath("/api/auth/%6cogin")).toMatchObject({ ok: true, url: "/api/auth/login" });
    expect(canonicalPath("/api/auth/%6Cogi%6e?next=%2f")).toMatchObject({
      ok: true,
      path: "/api/auth/login",
      url: "/api/auth/login?next=%2f",
    });
    expect(canonicalPath("/api/%41%5a%61%7a%30%39%2d%2e%5f%7e")).toMatchObject({ url: "/api/AZaz09-._~" });
    expect(canonicalPath("/api/inventory/products/caf%c3%a9")).toMatchObject({
      url: "/api/inventory/products/caf%C3%A9",
    });
    expect(canonicalPath("/api/x/a%2bb%40c%25d")).toMatchObject({ url: "/api/x/a%2Bb%40c%25d" });
    expect(canonicalPath("/")).toMatchObject({ ok: true, url: "/" });
    expect(canonicalPath("/docs/")).toMatchObject({ ok: true, url: "/docs/" });
  });

  it("keeps case and the query as sent", () => {
    expect(canonicalPath("/API/Auth/Login?Q=%6c")).toMatchObject({ url: "/API/Auth/Login?Q=%6c" });
  });

  it.each([
    ["dot segment", "/api/inventory/products/../orders"],
    ["single dot segment", "/api/./auth/login"],
    ["encoded dot segment", "/api/inventory/products/%2e%2e/x"],
    ["half-encoded dot segment", "/api/inventory/products/.%2E/x"],
    ["trailing dot segment", "/api/auth/login/.."],
    ["empty segment", "/api//auth/login"],
    ["leading empty segment", "//api/auth/login"],
    ["trailing slash", "/api/auth/login/"],
    ["encoded slash", "/api/auth%2flogin"],
    ["encoded backslash", "/api/auth%5Clogin"],
    ["backslash", "/api/auth\\login"],
    ["malformed escape", "/api/auth/%6"],
    ["non-hex escape", "/api/auth/%zzogin"],
    ["encoded NUL", "/api/auth/login%00"],
    ["encoded newline", "/api/auth/login%0a"],
    ["absolute form", "http://example.com/api/auth/login"],
    ["asterisk form", "*"],
    ["literal non-ASCII", "/api/inventory/products/café"],
    ["fragment", "/api/auth/login#x"],
  ])("refuses an ambiguous path: %s", (_name, url) => {
    expect(canonicalPath(url).ok).toBe(false);
  });
});

describe("the gateway on canonical paths", () => {
  async function echoGateway(): Promise<string> {
    const echo = await harness.upstream((app) => {
      app.all("/*", async (incoming) => ({ url: incoming.url }));
    });
    const services = ["users", "inventory", "orders", "payments", "notifications"];
    return harness.gateway(Object.fromEntries(services.map((service) => [service, [echo]])), {
      verifier: key.verifier,
      rateLimit: { perMinute: 1000, loginPerMinute: 2 },
    });
  }

  async function send(gateway: string, method: string, path: string, body?: unknown) {
    // A Client sends `path` exactly as given (fetch or a URL would normalise it first).
    const client = new Client(gateway);
    const answer = await client.request({
      path,
      method: method as "GET",
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const text = await answer.body.text();
    await client.close();
    return { status: answer.statusCode, headers: answer.headers, body: text ? JSON.parse(text) : undefined };
  }

  it("forwards the canonical path, so the service routes what the gateway classified", async () => {
    const gateway = await echoGateway();
    const answer = await send(gateway, "GET", "/api/inventory/%70roducts?limit=%32");
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ url: "/api/inventory/products?limit=%32" });
  });

  it("answers 400 problem+json for an ambiguous path, before authentication or forwarding", async () => {
    const gateway = await echoGateway();
    for (const path of ["/api/orders/%2e%2e/users", "/api//orders", "/api/orders/", "/api/orders%2fx"]) {
      const answer = await send(gateway, "GET", path);
      expect(answer.status, path).toBe(400);
      expect(answer.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ type: "https://blossom.dev/problems/malformed-url", status: 400 });
    }
  });

  it("counts an encoded login path in the login budget (finding: %6cogin bypassed it)", async () => {
    const gateway = await echoGateway();
    const body = { email: "victim@example.com", password: "guess" };
    const statuses: number[] = [];
    for (const path of [
      "/api/auth/login",
      "/api/auth/login",
      "/api/auth/%6cogin",
      "/api/auth/logi%6e",
      "/api/auth/%6Cogin",
    ])
      statuses.push((await send(gateway, "POST", path, body)).status);
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
  });
});
