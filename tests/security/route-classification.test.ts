import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_TIMEOUT_MS } from "@blossom/client";
import { createLogger, createServer } from "@blossom/runtime";
import fc from "fast-check";
import { Client } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalPath } from "../../services/gateway/src/canonical-path.js";
import { requiresToken } from "../../services/gateway/src/edge-auth.js";
import { rateLimitBucket } from "../../services/gateway/src/rate-limit.js";
import { upstreamTimeoutMs } from "../../services/gateway/src/route-budgets.js";
import { routeFor, UPSTREAM_SERVICES } from "../../services/gateway/src/routing-table.js";
import { REPO_ROOT } from "../deploy/support/manifests.js";
import { startTestPlatform, type TestPlatform } from "../support/embedded-platform.js";

/**
 * One path, one meaning (finding: `POST /api/auth/%6cogin` was outside the gateway's login limit
 * and its public-route list, yet the users service ran the login). For every operation of the
 * merged OpenAPI document, fast-check writes its path in many ways — percent-encoded letters in
 * either hex case, dot segments (plain and encoded), doubled and trailing slashes, encoded
 * slashes — and checks what the gateway does with each against what a service's router makes of
 * the path the gateway forwards:
 * - the gateway either refuses the path (400) or forwards exactly the operation's own path;
 * - that forwarded path matches that operation, and no other, in a router built by the services'
 *   own server factory (same Fastify, same router options);
 * - the gateway's classification of it — public or token required, login budget or not, the
 *   upstream it is sent to — is the operation's declared access (`x-blossom-access`).
 * Then a sample of the variants goes through the running gateway, anonymous: 400, 401 or served
 * exactly as classified. Reproduce with `FUZZ_SEED=<seed>`.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_206);

type Access = "public" | "user" | "admin" | "service";
interface Operation {
  key: string;
  method: string;
  /** The path template, `{name}` parameters. */
  template: string;
  /** The template with a sample value in each parameter. */
  path: string;
  access: Access;
  /** The declared budget (`x-blossom-budget-ms`), for a route slower than the usual 2 s. */
  budgetMs: number | undefined;
  service: string | undefined;
}

const SAMPLE_ID = "6f1c2e0a-1b2c-4d5e-8f90-123456789abc";
const METHODS = ["get", "put", "post", "patch", "delete"] as const;

let platform: TestPlatform;
const operations: Operation[] = [];
let router: ReturnType<typeof createServer>["app"];

beforeAll(async () => {
  platform = await startTestPlatform();
  const document = (await (await fetch(`${platform.gateway}/openapi.json`)).json()) as {
    paths: Record<
      string,
      Record<string, { tags?: string[]; "x-blossom-access"?: Access; "x-blossom-budget-ms"?: number }>
    >;
  };
  for (const [template, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operations.push({
        key: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        path: template.replace(/\{[^}]+\}/g, SAMPLE_ID),
        access: operation["x-blossom-access"] as Access,
        budgetMs: operation["x-blossom-budget-ms"],
        // The gateway's own operations (`ops`) are served by the gateway, forwarded nowhere.
        service: UPSTREAM_SERVICES.find((name) => name === operation.tags?.[0]),
      });
    }
  }
  // The services' router: their server factory, a stub per documented operation naming itself.
  router = createServer({
    service: "router-model",
    logger: createLogger({ service: "test", level: "silent" }),
  }).app;
  for (const operation of operations) {
    router.route({
      method: operation.method as "GET",
      url: operation.template.replace(/\{([^}]+)\}/g, ":$1"),
      handler: async () => ({ key: operation.key }),
    });
  }
  await router.ready();
}, 120_000);

afterAll(async () => {
  await router?.close();
  await platform?.destroy();
});

/** What the gateway forwards for a request target (its rewriteUrl), or undefined when it answers 400. */
function forwardedBy(target: string): string | undefined {
  const canonical = canonicalPath(target);
  return canonical.ok ? canonical.url : undefined;
}

async function matchedOperation(method: string, url: string): Promise<string | undefined> {
  const answer = await router.inject({ method: method as "GET", url });
  return answer.statusCode === 200 ? (answer.json() as { key: string }).key : undefined;
}

const hex = (character: string, lower: boolean) => {
  const code = character.charCodeAt(0).toString(16).padStart(2, "0");
  return `%${lower ? code : code.toUpperCase()}`;
};

/** The operation's path written another way: some characters encoded, maybe one decoration. */
const variantOf = (path: string) =>
  fc
    .record({
      encode: fc.array(fc.boolean(), { minLength: path.length, maxLength: path.length }),
      lowerHex: fc.boolean(),
      decoration: fc.constantFrom(
        "none",
        "none",
        "none",
        "dot-segment",
        "dot-dot-segment",
        "encoded-dot-dot",
        "double-slash",
        "trailing-slash",
        "encoded-slash",
      ),
      at: fc.nat(),
    })
    .map(({ encode, lowerHex, decoration, at }) => {
      let written = [...path]
        .map((character, index) =>
          encode[index] && character !== "/" ? hex(character, lowerHex) : character,
        )
        .join("");
      // The first slash stays: a request target starts with one.
      const slashes = [...written.matchAll(/\//g)].map((match) => match.index ?? 0).slice(1);
      const cut = slashes[at % slashes.length] ?? 0;
      const before = written.slice(0, cut);
      const after = written.slice(cut);
      switch (decoration) {
        case "dot-segment":
          written = `${before}/.${after}`;
          break;
        case "dot-dot-segment":
          written = `${before}/x/..${after}`;
          break;
        case "encoded-dot-dot":
          written = `${before}/x/%2e%2E${after}`;
          break;
        case "double-slash":
          written = `${before}/${after}`;
          break;
        case "trailing-slash":
          written = `${written}/`;
          break;
        case "encoded-slash":
          written = `${before}%2F${after.slice(1)}`;
          break;
      }
      return { written, decoration };
    });

const GENERATED = join(REPO_ROOT, "services/gateway/src/public-operations.generated.ts");

/** The generated file's text for the merged document's public operations. */
function publicOperationsFile(): string {
  const lines = operations
    .filter((operation) => operation.access === "public")
    .map((operation) => `  { method: "${operation.method}", path: "${operation.template}" },`)
    .sort();
  const header = readFileSync(GENERATED, "utf8").split("export const")[0] ?? "";
  return `${header}export const PUBLIC_OPERATIONS: ReadonlyArray<{ method: string; path: string }> = [\n${lines.join("\n")}\n];\n`;
}

describe("the gateway's public routes come from the services' declarations", () => {
  it("public-operations.generated.ts lists exactly the operations declared public (UPDATE_GENERATED=1 rewrites it)", () => {
    const expected = publicOperationsFile();
    if (process.env.UPDATE_GENERATED === "1") writeFileSync(GENERATED, expected);
    expect(
      readFileSync(GENERATED, "utf8"),
      "stale: run UPDATE_GENERATED=1 npx vitest run tests/security/route-classification.test.ts",
    ).toBe(expected);
  });
});

const BUDGETS_GENERATED = join(REPO_ROOT, "services/gateway/src/operation-budgets.generated.ts");

/** The generated file's text for the merged document's operations that declare a budget. */
function operationBudgetsFile(): string {
  const lines = operations
    .filter((operation) => operation.budgetMs !== undefined)
    .map(
      (operation) =>
        `  { method: "${operation.method}", path: "${operation.template}", budgetMs: ${operation.budgetMs} },`,
    )
    .sort();
  const header = readFileSync(BUDGETS_GENERATED, "utf8").split("export const")[0] ?? "";
  return `${header}export const OPERATION_BUDGETS: ReadonlyArray<{ method: string; path: string; budgetMs: number }> = [\n${lines.join("\n")}\n];\n`;
}

describe("the gateway's timeouts for slow routes come from the services' declarations", () => {
  it("operation-budgets.generated.ts lists exactly the operations that declare a budget (UPDATE_GENERATED=1 rewrites it)", () => {
    const expected = operationBudgetsFile();
    if (process.env.UPDATE_GENERATED === "1") writeFileSync(BUDGETS_GENERATED, expected);
    expect(
      readFileSync(BUDGETS_GENERATED, "utf8"),
      "stale: run UPDATE_GENERATED=1 npx vitest run tests/security/route-classification.test.ts",
    ).toBe(expected);
  });

  it("the gateway waits a declared budget out, and its usual timeout elsewhere", () => {
    for (const operation of operations)
      expect(upstreamTimeoutMs(operation.method, operation.path), operation.key).toBe(
        operation.budgetMs === undefined ? undefined : Math.max(DEFAULT_TIMEOUT_MS, operation.budgetMs),
      );
    expect(operations.some((operation) => operation.budgetMs !== undefined)).toBe(true);
  });
});

describe("one path, one meaning: the gateway's classification equals the service's route", () => {
  it("every operation of the merged document declares who may call it", () => {
    expect(operations.length).toBeGreaterThan(15);
    const undeclared = operations.filter((operation) => !operation.access).map((operation) => operation.key);
    expect(undeclared).toEqual([]);
    // The canonical path of each operation is classified as declared.
    for (const operation of operations) {
      expect(requiresToken(operation.method, operation.path), operation.key).toBe(
        operation.access !== "public",
      );
      expect(routeFor(operation.path), operation.key).toBe(operation.service);
    }
  });

  it("any way of writing an operation's path is refused or classified and routed as that operation", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...operations)
          .chain((operation) => fc.tuple(fc.constant(operation), variantOf(operation.path))),
        async ([operation, { written, decoration }]) => {
          const forwarded = forwardedBy(written);
          // Only an ambiguous decoration may be refused; a merely encoded path never is.
          if (forwarded === undefined) {
            expect(decoration, written).not.toBe("none");
            return;
          }
          expect(forwarded, written).toBe(operation.path);
          expect(await matchedOperation(operation.method, forwarded), written).toBe(operation.key);
          expect(requiresToken(operation.method, forwarded), written).toBe(operation.access !== "public");
          expect(rateLimitBucket(operation.method, forwarded), written).toBe(
            operation.key === "POST /api/auth/login" ? "login" : "api",
          );
          expect(routeFor(forwarded), written).toBe(operation.service);
        },
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it("through the running gateway, anonymous: 400 for an ambiguous path, 401 for a protected one, served for a public one", async () => {
    const client = new Client(platform.gateway);
    try {
      const samples = fc.sample(
        fc
          .constantFrom(...operations)
          .chain((operation) => fc.tuple(fc.constant(operation), variantOf(operation.path))),
        { seed: SEED, numRuns: 150 },
      );
      for (const [operation, { written }] of samples) {
        const body = ["POST", "PUT", "PATCH"].includes(operation.method) ? "{}" : undefined;
        const answer = await client.request({
          method: operation.method as "GET",
          path: written,
          ...(body ? { body, headers: { "content-type": "application/json" } } : {}),
        });
        const text = await answer.body.text();
        const what = `${operation.key} as ${written}: ${answer.statusCode} ${text.slice(0, 200)}`;
        if (forwardedBy(written) === undefined) expect(answer.statusCode, what).toBe(400);
        else if (operation.access === "public") {
          // Reached the operation: whatever it answers (a 404 "no product" is fine), it is not
          // the edge's 401, nor a router's "no route".
          expect([401, 405], what).not.toContain(answer.statusCode);
          expect(text, what).not.toMatch(/No route for|malformed-url/);
        } else expect(answer.statusCode, what).toBe(401);
        expect(answer.statusCode, what).toBeLessThan(500);
      }
    } finally {
      await client.close();
    }
  });
});
