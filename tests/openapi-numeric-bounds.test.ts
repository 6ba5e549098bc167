import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";
import {
  boundProblems,
  type NumericInput,
  numericInputs,
  type OpenApiDocument,
  operationsOf,
} from "./support/openapi-numbers.js";

/**
 * "Numbers are numbers": every integer or number a client can send — a query, path or header
 * parameter, or a field anywhere in a JSON body, of every operation of the gateway's merged
 * OpenAPI document — declares a finite `minimum` and `maximum`, within ±(2^53-1). An unbounded one
 * let `?limit=Infinity` or a 2^31 price reach PostgreSQL (500). Answers (response schemas) are
 * not inputs and are not held to this.
 */
let platform: TestPlatform;
let doc: OpenApiDocument;

beforeAll(async () => {
  platform = await startTestPlatform();
  doc = (await (await fetch(`${platform.gateway}/openapi.json`)).json()) as OpenApiDocument;
});
afterAll(async () => {
  await platform?.destroy();
});

function unbounded(inputs: NumericInput[]): string[] {
  return inputs.flatMap((input) =>
    boundProblems(input.schema).map(
      (problem) => `${input.operation.name}: ${input.location} ${input.field} ${problem}`,
    ),
  );
}

describe("the bounds of numeric inputs", () => {
  it("the walker finds unbounded numbers (so the rule below can fail)", () => {
    const sample: OpenApiDocument = {
      paths: {
        "/things/{n}": {
          post: {
            parameters: [
              { in: "path", name: "n", schema: { type: "integer", minimum: 0 } },
              { in: "query", name: "ok", schema: { type: "integer", minimum: 1, maximum: 100 } },
              { in: "header", name: "x-big", schema: { type: "number", minimum: 0, maximum: 2 ** 60 } },
            ],
            requestBody: {
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    properties: {
                      lines: {
                        type: "array",
                        items: { $ref: "#/components/schemas/Line" },
                      },
                      ratio: { anyOf: [{ type: "number", maximum: 1 }, { type: "null" }] },
                      kind: { type: "integer", const: 3 },
                    },
                  },
                },
              },
            },
          },
        },
      },
      components: {
        schemas: {
          Line: { type: "object", properties: { price: { type: ["integer", "null"], minimum: 0 } } },
        },
      },
    };
    expect(unbounded(numericInputs(sample)).sort()).toEqual(
      [
        "POST /things/{n}: path n has no finite maximum",
        `POST /things/{n}: header x-big has a maximum (${2 ** 60}) above 2^53-1`,
        "POST /things/{n}: body /lines/0/price has no finite maximum",
        "POST /things/{n}: body /ratio has no finite minimum",
      ].sort(),
    );
  });

  it("reads the operations of the merged document", () => {
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThan(10);
    const fields = numericInputs(doc).map(
      (input) => `${input.operation.name} ${input.location} ${input.field}`,
    );
    // The platform's known numeric inputs, named so that a walker finding nothing fails here.
    for (const known of [
      "GET /api/inventory/products query limit",
      "POST /api/inventory/products body /price/amount",
      "POST /api/inventory/products body /stock",
      "POST /api/inventory/products/{id}/stock body /delta",
      "POST /api/orders body /items/0/quantity",
      "POST /api/payments/methods body /expMonth",
      "GET /api/ops/traces query limit",
    ])
      expect(fields).toContain(known);
  });

  it("every integer and number a client can send has a finite minimum and maximum within ±(2^53-1)", () => {
    expect(unbounded(numericInputs(doc))).toEqual([]);
  });
});
