import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestSigningKey, testSigningKey } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STOREFRONT_CSP } from "./storefront.js";
import { GatewayHarness } from "./test-harness.js";

const INDEX =
  '<!doctype html><html lang="en"><head><script type="module" src="/assets/index-AbC123.js"></script></head><body><div id="root"></div></body></html>';
const HTML = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

/** A built shop of three files in a fresh directory: index.html, a hashed asset, the favicon. */
function builtShop(): string {
  const root = mkdtempSync(join(tmpdir(), "blossom-storefront-"));
  mkdirSync(join(root, "assets"));
  writeFileSync(join(root, "index.html"), INDEX);
  writeFileSync(join(root, "assets", "index-AbC123.js"), "console.log('shop');\n");
  writeFileSync(join(root, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  return root;
}

describe("the storefront at / (a built shop in front of echoing upstreams)", () => {
  const harness = new GatewayHarness();
  let key: TestSigningKey;
  let root: string;
  let gateway: string;

  beforeAll(async () => {
    key = await testSigningKey();
    root = builtShop();
    const echo = await harness.upstream((app) => {
      app.all("/*", async (request) => ({ upstream: true, path: request.url }));
    });
    const instances = Object.fromEntries(
      ["users", "inventory", "orders", "payments", "notifications"].map((service) => [service, [echo]]),
    );
    gateway = await harness.gateway(instances, { verifier: key.verifier, webRoot: root });
  });
  afterAll(async () => {
    await harness.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("serves index.html at / with no-cache and the shop's CSP (no inline script allowed)", async () => {
    const response = await fetch(`${gateway}/`, { headers: HTML });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(await response.text()).toBe(INDEX);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toBe(STOREFRONT_CSP);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    // The rest of the security headers stay the gateway's.
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("serves hashed assets as immutable for a year, and other files as no-cache", async () => {
    const asset = await fetch(`${gateway}/assets/index-AbC123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await asset.text()).toContain("shop");
    const icon = await fetch(`${gateway}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get("cache-control")).toBe("no-cache");
    // A navigation to an asset gets the asset, not the app.
    const navigated = await fetch(`${gateway}/assets/index-AbC123.js`, { headers: HTML });
    expect(await navigated.text()).toContain("shop");
  });

  it("answers a browser's navigation to a client route with index.html (SPA fallback)", async () => {
    for (const path of ["/products/abc", "/orders/123?x=1", "/checkout", "/no/such/page"]) {
      const response = await fetch(`${gateway}${path}`, { headers: HTML });
      expect(response.status, path).toBe(200);
      expect(response.headers.get("cache-control"), path).toBe("no-cache");
      expect(response.headers.get("content-security-policy"), path).toBe(STOREFRONT_CSP);
      expect(await response.text(), path).toBe(INDEX);
    }
    const head = await fetch(`${gateway}/orders/123`, { method: "HEAD", headers: HTML });
    expect(head.status).toBe(200);
  });

  it("never shadows the API, the docs, the document, health, metrics or the JWKS", async () => {
    const api = await fetch(`${gateway}/api/inventory/products?q=lamp`, { headers: HTML });
    expect(await api.json()).toEqual({ upstream: true, path: "/api/inventory/products?q=lamp" });
    expect(api.headers.get("content-security-policy")).toBe("default-src 'none';frame-ancestors 'none'");
    const jwks = await fetch(`${gateway}/.well-known/jwks.json`, { headers: HTML });
    expect(await jwks.json()).toMatchObject({ upstream: true });
    const unknownApi = await fetch(`${gateway}/api/nothing-here`, { headers: HTML });
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const metrics = await fetch(`${gateway}/metrics`, { headers: HTML });
    expect(metrics.status).toBe(404);
    expect(await metrics.text()).not.toBe(INDEX);
    const health = await fetch(`${gateway}/health/live`, { headers: HTML });
    expect(health.headers.get("content-type")).toMatch(/json/);
    const docs = await fetch(`${gateway}/docs`, { headers: HTML, redirect: "manual" });
    expect(await docs.text()).not.toBe(INDEX);
    const document = await fetch(`${gateway}/openapi.json`, { headers: HTML });
    expect(document.headers.get("content-type")).toMatch(/json/);
  });

  it("leaves non-HTML requests and other methods to the proxy (a 404 problem, not the app)", async () => {
    const json = await fetch(`${gateway}/products/abc`, { headers: { accept: "application/json" } });
    expect(json.status).toBe(404);
    expect(json.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const post = await fetch(`${gateway}/checkout`, { method: "POST", headers: HTML });
    expect(post.status).toBe(404);
  });
});

describe("the shop's files and the per-IP API rate limit", () => {
  const harness = new GatewayHarness();
  let root: string;
  let gateway: string;

  beforeAll(async () => {
    const key = await testSigningKey();
    root = builtShop();
    const echo = await harness.upstream((app) => {
      app.all("/*", async (request) => ({ upstream: true, path: request.url }));
    });
    gateway = await harness.gateway(
      { inventory: [echo] },
      { verifier: key.verifier, webRoot: root, rateLimit: { perMinute: 3 } },
    );
  });
  afterAll(async () => {
    await harness.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("never counts a page load's GETs (/, /assets/*, the favicon, a client route) against /api's budget", async () => {
    // Far more static requests than the budget of 3: a few page loads' worth, none refused or counted.
    for (let load = 0; load < 4; load++) {
      for (const [path, headers] of [
        ["/", HTML],
        ["/assets/index-AbC123.js", {}],
        ["/favicon.svg", {}],
        ["/products/abc?x=1", HTML],
      ] as const) {
        const response = await fetch(`${gateway}${path}`, { headers });
        expect(response.status, path).toBe(200);
        expect(response.headers.get("ratelimit-limit"), path).toBeNull();
        await response.arrayBuffer();
      }
      const head = await fetch(`${gateway}/assets/index-AbC123.js`, { method: "HEAD" });
      expect(head.status).toBe(200);
    }
    // The API's whole budget is still there, and it is still enforced.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${gateway}/api/inventory/products`);
      if (i === 0) expect(response.headers.get("ratelimit-remaining")).toBe("2");
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    // With /api exhausted, the shop still loads (and can say "too many requests" in words).
    expect((await fetch(`${gateway}/`, { headers: HTML })).status).toBe(200);
    expect((await fetch(`${gateway}/assets/index-AbC123.js`)).status).toBe(200);
    // Only GET and HEAD of the shop's paths go free: the docs, the document and other methods count.
    expect((await fetch(`${gateway}/openapi.json`)).status).toBe(429);
    expect((await fetch(`${gateway}/checkout`, { method: "POST", headers: HTML })).status).toBe(429);
  });
});

describe("a gateway without a built shop", () => {
  const harness = new GatewayHarness();
  afterAll(() => harness.close());

  it("serves the API alone: / is the proxy's 404", async () => {
    const key = await testSigningKey();
    const gateway = await harness.gateway({}, { verifier: key.verifier, webRoot: false });
    const response = await fetch(`${gateway}/`, { headers: HTML });
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });
});
