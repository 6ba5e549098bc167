import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeFor } from "../services/gateway/src/routing-table.js";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";

/**
 * The API docs (issue 4): every service publishes its OpenAPI 3.1 document, and the gateway
 * serves the merged one at `/openapi.json` and Swagger UI at `/docs`.
 */
let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.destroy();
});

type Doc = { openapi: string; info: { title: string }; paths: Record<string, Record<string, unknown>> };
const METHODS = ["get", "put", "post", "delete", "patch"];

async function json<T>(url: string): Promise<{ status: number; type: string | null; body: T }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    body: (await response.json()) as T,
  };
}

describe("OpenAPI documents", () => {
  it("each service publishes its own 3.1 document, without the health routes", async () => {
    for (const [name, url] of platform.urls) {
      if (name === "gateway") continue;
      const { status, body } = await json<Doc>(`${url}/openapi.json`);
      expect(status, name).toBe(200);
      expect(body.openapi).toBe("3.1.0");
      expect(body.info.title).toBe(`Blossom ${name}`);
      expect(Object.keys(body.paths).some((path) => path.startsWith("/health"))).toBe(false);
      expect(Object.keys(body.paths)).not.toContain("/openapi.json");
      const validation = await new Validator().validate(body as never);
      expect(validation.errors, `${name}: ${JSON.stringify(validation.errors)}`).toBeUndefined();
    }
  });

  it("the gateway serves a valid merged document covering every public route of every service", async () => {
    const { status, type, body: merged } = await json<Doc>(`${platform.gateway}/openapi.json`);
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/json/);
    const validator = new Validator();
    const validation = await validator.validate(merged as never);
    if (!validation.valid) console.error(JSON.stringify(validation.errors, null, 2));
    expect(validation.valid).toBe(true);
    expect(merged.openapi).toBe("3.1.0");

    // The gateway's own routes (the operations console's API), beside every service's public ones.
    const expected: string[] = [
      "GET /api/ops/traces",
      "GET /api/ops/traces/{traceId}",
      "GET /api/ops/logs",
      "GET /api/ops/metrics",
    ];
    for (const [name, url] of platform.urls) {
      if (name === "gateway") continue;
      const { body } = await json<Doc>(`${url}/openapi.json`);
      for (const [path, item] of Object.entries(body.paths)) {
        if (routeFor(path) !== name) continue;
        for (const method of METHODS) if (item[method]) expected.push(`${method.toUpperCase()} ${path}`);
      }
    }
    const documented = Object.entries(merged.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(expected.sort());
    // The platform's main routes, named explicitly so a silently empty service document fails.
    for (const route of [
      "POST /api/users",
      "POST /api/auth/login",
      "GET /.well-known/jwks.json",
      "GET /api/inventory/products",
      "POST /api/orders",
      "GET /api/orders/{id}",
      "POST /api/payments/methods",
      "GET /api/notifications",
    ])
      expect(documented).toContain(route);
    // Every operation documents its problem answers.
    for (const item of Object.values(merged.paths))
      for (const method of METHODS) {
        const operation = item[method] as
          | { responses?: Record<string, unknown>; tags?: string[] }
          | undefined;
        if (!operation) continue;
        expect(operation.responses?.default).toBeDefined();
        expect(operation.tags?.length).toBeGreaterThan(0);
      }
  });

  it("serves Swagger UI at /docs from local assets, reading the merged document", async () => {
    const page = await fetch(`${platform.gateway}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain("swagger-ui-bundle.js");
    // No asset from another host: the docs work offline.
    expect(html).not.toMatch(/(src|href)="https?:/);
    const bundle = await fetch(`${platform.gateway}/docs/static/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    await bundle.arrayBuffer();
    const { status, body } = await json<Doc>(`${platform.gateway}/docs/json`);
    expect(status).toBe(200);
    expect(body.info.title).toBe("Blossom");
    expect(Object.keys(body.paths)).toContain("/api/orders");
  });
});
