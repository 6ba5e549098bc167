import { Writable } from "node:stream";
import { Type } from "@sinclair/typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { numericKind, numericSyntaxProblem } from "./numeric-query.js";
import { HttpProblem } from "./problem.js";
import { type App, createServer } from "./server.js";

const VALIDATION = "https://blossom.dev/problems/validation-error";

let app: App;

beforeAll(async () => {
  const destination = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  app = createServer({
    service: "test",
    logger: createLogger({ service: "test", instance: "t-1", destination, level: "warn" }),
  }).app;
  // Stands in for @blossom/auth's hook: instance-level preValidation, refusing anonymous callers
  // of routes declaring `config: { auth }`.
  app.addHook("preValidation", async (request) => {
    const needs = (request.routeOptions.config as { auth?: string } | undefined)?.auth;
    if (needs && !request.headers.authorization) throw HttpProblem.of("unauthorized", "sign in");
  });
  app.get(
    "/items",
    {
      schema: {
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
          ratio: Type.Optional(Type.Number({ minimum: -10, maximum: 10 })),
          q: Type.Optional(Type.String({ maxLength: 20 })),
        }),
      },
    },
    async (request) => ({ query: request.query }),
  );
  app.get(
    "/items/:index",
    { schema: { params: Type.Object({ index: Type.Integer({ minimum: 0, maximum: 1000 }) }) } },
    async (request) => ({ params: request.params }),
  );
  app.get(
    "/private",
    {
      config: { auth: "user" },
      schema: {
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }),
      },
    },
    async (request) => ({ query: request.query }),
  );
  app.get(
    "/header",
    {
      schema: {
        headers: Type.Object({ "X-Count": Type.Optional(Type.Integer({ minimum: 0, maximum: 9 })) }),
      },
    },
    async (request) => ({ count: (request.headers as Record<string, unknown>)["x-count"] }),
  );
  app.post(
    "/orders",
    {
      schema: {
        body: Type.Object({
          lines: Type.Array(
            Type.Object({
              quantity: Type.Integer({ minimum: 1, maximum: 100 }),
              price: Type.Object({ amount: Type.Integer({ minimum: 0, maximum: 100_000_000 }) }),
            }),
            { maxItems: 5 },
          ),
          discount: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
          note: Type.Optional(Type.String({ maxLength: 20 })),
        }),
      },
    },
    async (request) => ({ body: request.body }),
  );
  await app.ready();
});

afterAll(async () => {
  await app?.close();
});

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: "GET", url, headers });
  return {
    status: response.statusCode,
    type: String(response.headers["content-type"] ?? ""),
    body: response.json() as Record<string, unknown> & {
      errors?: Array<{ in: string; pointer: string; message: string }>;
    },
  };
}

function expectValidationProblem(
  answer: Awaited<ReturnType<typeof get>>,
  what: string,
  where: { in: string; pointer: string },
) {
  expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(400);
  expect(answer.type, what).toMatch(/^application\/problem\+json/);
  expect(answer.body.type, what).toBe(VALIDATION);
  expect(answer.body.status, what).toBe(400);
  expect(answer.body.errors, what).toContainEqual(expect.objectContaining(where));
}

/** Raw query values (already percent-encoded where needed) that are not a plain decimal integer in bounds. */
const BAD_INTEGERS = [
  "Infinity",
  "-Infinity",
  "NaN",
  "1e309",
  "1e2",
  "1E2",
  "-0",
  "9007199254740993",
  "9007199254740992",
  `1${"0".repeat(400)}`,
  "0x10",
  "0b11",
  "0o7",
  "%2B5",
  "%205",
  "5%20",
  "",
  "1.5",
  "1.0",
  "5abc",
  "-",
  "--5",
  "1_000",
  "٣",
  "101",
  "0",
];

describe("numbers in the query string", () => {
  it.each(BAD_INTEGERS)("limit=%s is a 400 validation problem, never a 500", async (raw) => {
    expectValidationProblem(await get(`/items?limit=${raw}`), `limit=${raw}`, {
      in: "querystring",
      pointer: "/limit",
    });
  });

  it("a repeated numeric parameter is refused, even when each value is valid", async () => {
    const answer = await get("/items?limit=1&limit=2");
    expectValidationProblem(answer, "repeated", { in: "querystring", pointer: "/limit" });
    expect(answer.body.errors?.[0]?.message).toMatch(/once/);
    expectValidationProblem(await get("/items?limit=5&limit=5"), "repeated twice the same", {
      in: "querystring",
      pointer: "/limit",
    });
  });

  it("-0 is refused even where 0 is allowed", async () => {
    expect((await get("/items?offset=0")).status).toBe(200);
    const answer = await get("/items?offset=-0");
    expectValidationProblem(answer, "offset=-0", { in: "querystring", pointer: "/offset" });
    expect(answer.body.errors?.[0]?.message).toMatch(/negative zero/);
    expectValidationProblem(await get("/items?ratio=-0.0"), "ratio=-0.0", {
      in: "querystring",
      pointer: "/ratio",
    });
  });

  it("names every offending field, in the runtime's validation problem format", async () => {
    const answer = await get("/items?limit=Infinity&offset=0x10&ratio=1e1");
    expectValidationProblem(answer, "three", { in: "querystring", pointer: "/limit" });
    expect(answer.body.errors?.map((error) => error.pointer)).toEqual(["/limit", "/offset", "/ratio"]);
    expect(answer.body.detail).toMatch(/^querystring\/limit /);
    expect(answer.body.instance).toBe("/items");
    expect(answer.body.requestId).toEqual(expect.any(String));
  });

  it("a number takes a plain decimal fraction, and nothing else", async () => {
    expect((await get("/items?ratio=-2.5")).body.query).toMatchObject({ ratio: -2.5 });
    expect((await get("/items?ratio=3")).body.query).toMatchObject({ ratio: 3 });
    for (const raw of ["Infinity", "1e1", ".5", "5.", "%2B1.5", "0x1", "NaN", "1,5", `1${"0".repeat(400)}.5`])
      expectValidationProblem(await get(`/items?ratio=${raw}`), `ratio=${raw}`, {
        in: "querystring",
        pointer: "/ratio",
      });
    // In syntax, out of bounds: Ajv's bounds still apply.
    expectValidationProblem(await get("/items?ratio=10.5"), "ratio=10.5", {
      in: "querystring",
      pointer: "/ratio",
    });
  });

  it("valid values still work: bounds, defaults, leading zeros, and string fields are untouched", async () => {
    expect((await get("/items")).body.query).toEqual({ limit: 20 });
    expect((await get("/items?limit=1")).body.query).toEqual({ limit: 1 });
    expect((await get("/items?limit=100&offset=1000000")).body.query).toEqual({
      limit: 100,
      offset: 1_000_000,
    });
    expect((await get("/items?limit=007")).body.query).toEqual({ limit: 7 });
    // A string field keeps whatever text it is given (numbers, spaces, repeated is Ajv's business).
    expect((await get("/items?q=%201e309")).body.query).toEqual({ limit: 20, q: " 1e309" });
    expect((await get("/items?q=a&q=b")).status).toBe(400);
  });
});

describe("numbers in path parameters and headers", () => {
  it("a path parameter is held to the same syntax", async () => {
    expect((await get("/items/42")).body.params).toEqual({ index: 42 });
    for (const raw of ["Infinity", "1e2", "0x10", "-0", "%2B5", "%205", "1.5", "9007199254740993"])
      expectValidationProblem(await get(`/items/${raw}`), `/items/${raw}`, {
        in: "params",
        pointer: "/index",
      });
  });

  it("an integer header is held to the same syntax (its schema's name in any case)", async () => {
    expect((await get("/header", { "x-count": "7" })).body).toEqual({ count: 7 });
    expect((await get("/header")).status).toBe(200);
    for (const raw of ["Infinity", "1e0", "0x1", "+5", "-0", "1.5"])
      expectValidationProblem(await get("/header", { "x-count": raw }), `x-count: ${raw}`, {
        in: "headers",
        pointer: "/x-count",
      });
  });
});

describe("numbers in a JSON body", () => {
  async function post(body: unknown) {
    const response = await app.inject({ method: "POST", url: "/orders", payload: body as object });
    return {
      status: response.statusCode,
      type: String(response.headers["content-type"] ?? ""),
      body: response.json() as Record<string, unknown> & {
        errors?: Array<{ in: string; pointer: string; message: string }>;
      },
    };
  }
  const line = { quantity: 2, price: { amount: 500 } };

  it("a string in place of a number is held to the URL's syntax (Ajv would coerce it)", async () => {
    for (const raw of ["Infinity", "-Infinity", "NaN", "1e309", "1e2", "0x10", "+5", " 5", "-0", "1.5", ""]) {
      const answer = await post({ lines: [line, { ...line, quantity: raw }] });
      expectValidationProblem(answer, `quantity ${JSON.stringify(raw)}`, {
        in: "body",
        pointer: "/lines/1/quantity",
      });
    }
    expectValidationProblem(await post({ lines: [{ ...line, price: { amount: "1e309" } }] }), "amount", {
      in: "body",
      pointer: "/lines/0/price/amount",
    });
    // Ajv unwraps a one-element array before coercing its element.
    expectValidationProblem(await post({ lines: [{ ...line, quantity: ["Infinity"] }] }), "wrapped", {
      in: "body",
      pointer: "/lines/0/quantity",
    });
    expectValidationProblem(await post({ lines: [], discount: "Infinity" }), "discount", {
      in: "body",
      pointer: "/discount",
    });
  });

  it("JSON numbers are Ajv's: out of bounds, unsafe or not finite is a 400, never a 500", async () => {
    for (const raw of ["1e309", "-1e309", "9007199254740993", "101", "0", "1.5"]) {
      const response = await app.inject({
        method: "POST",
        url: "/orders",
        headers: { "content-type": "application/json" },
        payload: `{"lines":[{"quantity":${raw},"price":{"amount":1}}]}`,
      });
      expect(response.statusCode, raw).toBe(400);
      expect(response.json().type).toBe(VALIDATION);
    }
  });

  it("valid bodies still work: numbers, plain decimal strings, null where allowed, strings untouched", async () => {
    expect((await post({ lines: [line] })).body.body).toEqual({ lines: [line] });
    expect((await post({ lines: [{ quantity: "3", price: { amount: "0" } }] })).body.body).toEqual({
      lines: [{ quantity: 3, price: { amount: 0 } }],
    });
    expect((await post({ lines: [], discount: "0.25", note: "1e309" })).body.body).toEqual({
      lines: [],
      discount: 0.25,
      note: "1e309",
    });
    expect((await post({ lines: [], discount: null })).status).toBe(200);
  });
});

describe("order with authentication", () => {
  it("an anonymous caller of a protected route is told 401 before anything about its numbers", async () => {
    const anonymous = await get("/private?limit=Infinity");
    expect(anonymous.status).toBe(401);
    expect(anonymous.type).toMatch(/^application\/problem\+json/);
    const signedIn = await get("/private?limit=Infinity", { authorization: "Bearer x" });
    expectValidationProblem(signedIn, "signed in", { in: "querystring", pointer: "/limit" });
    expect((await get("/private?limit=3", { authorization: "Bearer x" })).body.query).toEqual({ limit: 3 });
  });

  it("HEAD of a GET route is checked too", async () => {
    const response = await app.inject({ method: "HEAD", url: "/items?limit=Infinity" });
    expect(response.statusCode).toBe(400);
  });
});

describe("the syntax rules", () => {
  it("tells integers and numbers from everything else", () => {
    expect(numericKind(Type.Integer())).toBe("integer");
    expect(numericKind(Type.Number())).toBe("number");
    expect(numericKind(Type.Union([Type.Integer(), Type.Null()]))).toBe("integer");
    expect(numericKind(Type.Union([Type.Integer(), Type.Number()]))).toBe("number");
    // A union that takes a string is Ajv's alone: its raw strings may be legitimate.
    expect(numericKind(Type.Union([Type.Integer(), Type.Literal("all")]))).toBeUndefined();
    expect(numericKind(Type.String())).toBeUndefined();
    expect(numericKind(Type.Boolean())).toBeUndefined();
  });

  it("accepts plain decimal only", () => {
    expect(numericSyntaxProblem("-12", "integer")).toBeUndefined();
    expect(numericSyntaxProblem("9007199254740991", "integer")).toBeUndefined();
    expect(numericSyntaxProblem("-9007199254740991", "integer")).toBeUndefined();
    expect(numericSyntaxProblem("-1.25", "number")).toBeUndefined();
    expect(numericSyntaxProblem("-9007199254740992", "integer")).toMatch(/from/);
    expect(numericSyntaxProblem("1.5", "integer")).toMatch(/plain decimal/);
    expect(numericSyntaxProblem(["1"], "integer")).toMatch(/once/);
    expect(numericSyntaxProblem(5, "integer")).toBeUndefined();
  });
});
