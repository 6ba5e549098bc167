/**
 * The numeric inputs of an OpenAPI 3.1 document (the gateway's merged one): every integer or
 * number schema of every operation's parameters and JSON request body, with where it is, so tests
 * can hold each to its bounds and send it edge cases without anyone listing the routes.
 */

export type Json = Record<string, unknown>;

export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown> };
}

export const HTTP_METHODS = ["get", "put", "post", "patch", "delete"] as const;

export interface Parameter {
  in: "query" | "path" | "header" | "cookie";
  name: string;
  required?: boolean;
  schema?: Json;
}

export interface Operation {
  /** "GET /api/inventory/products" */
  name: string;
  method: string;
  path: string;
  parameters: Parameter[];
  /** The `application/json` request body's schema, if any. */
  body?: Json;
}

export type Location = Parameter["in"] | "body";

export interface NumericInput {
  operation: Operation;
  location: Location;
  /** A parameter's name, or a JSON pointer into the body (`/items/0/quantity`). */
  field: string;
  /** For the body: the keys and indexes leading to the field. */
  at: Array<string | number>;
  schema: Json;
}

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function isJson(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A schema with its `$ref` (to `#/components/schemas/…`) followed. */
export function resolve(doc: OpenApiDocument, schema: unknown, seen = new Set<string>()): Json | undefined {
  if (!isJson(schema)) return undefined;
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const name = ref.replace(/^#\/components\/schemas\//, "");
  if (seen.has(name)) return undefined;
  return resolve(doc, doc.components?.schemas?.[name], new Set([...seen, name]));
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((method) => isJson(item[method])).map((method) => {
      const operation = item[method] as {
        parameters?: Parameter[];
        requestBody?: { content?: Record<string, { schema?: unknown }> };
      };
      const body = resolve(doc, operation.requestBody?.content?.["application/json"]?.schema);
      return {
        name: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters: operation.parameters ?? [],
        ...(body ? { body } : {}),
      };
    }),
  );
}

function typesOf(schema: Json): string[] {
  const type = schema.type;
  if (typeof type === "string") return [type];
  return Array.isArray(type) ? type.filter((entry): entry is string => typeof entry === "string") : [];
}

export function isNumeric(schema: Json): boolean {
  return typesOf(schema).some((type) => type === "integer" || type === "number");
}

export function isInteger(schema: Json): boolean {
  return isNumeric(schema) && !typesOf(schema).includes("number");
}

/** Every integer/number schema under `schema`, with the keys and indexes leading to it. */
function numericSchemas(
  doc: OpenApiDocument,
  schema: unknown,
  at: Array<string | number>,
  found: Array<{ at: Array<string | number>; schema: Json }>,
  depth = 0,
): void {
  const resolved = resolve(doc, schema);
  if (!resolved || depth > 20) return;
  if (isNumeric(resolved)) found.push({ at, schema: resolved });
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const alternatives = resolved[key];
    if (Array.isArray(alternatives))
      for (const alternative of alternatives) numericSchemas(doc, alternative, at, found, depth + 1);
  }
  if (isJson(resolved.properties))
    for (const [name, property] of Object.entries(resolved.properties))
      numericSchemas(doc, property, [...at, name], found, depth + 1);
  if (isJson(resolved.additionalProperties))
    numericSchemas(doc, resolved.additionalProperties, [...at, "additionalProperty"], found, depth + 1);
  if (isJson(resolved.items)) numericSchemas(doc, resolved.items, [...at, 0], found, depth + 1);
  if (Array.isArray(resolved.prefixItems))
    for (const [index, item] of resolved.prefixItems.entries())
      numericSchemas(doc, item, [...at, index], found, depth + 1);
}

function pointer(at: Array<string | number>): string {
  return `/${at.map((key) => String(key).replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;
}

/** Every numeric parameter and body field of every operation of the document. */
export function numericInputs(doc: OpenApiDocument): NumericInput[] {
  const inputs: NumericInput[] = [];
  for (const operation of operationsOf(doc)) {
    for (const parameter of operation.parameters) {
      const found: Array<{ at: Array<string | number>; schema: Json }> = [];
      numericSchemas(doc, parameter.schema, [], found);
      for (const { at, schema } of found)
        inputs.push({
          operation,
          location: parameter.in,
          field: at.length === 0 ? parameter.name : `${parameter.name}${pointer(at)}`,
          at,
          schema,
        });
    }
    const found: Array<{ at: Array<string | number>; schema: Json }> = [];
    numericSchemas(doc, operation.body, [], found);
    for (const { at, schema } of found)
      inputs.push({ operation, location: "body", field: pointer(at), at, schema });
  }
  return inputs;
}

/** What is wrong with a numeric schema's bounds: nothing (an empty list) when both are finite and safe. */
export function boundProblems(schema: Json): string[] {
  const constant = schema.const;
  const choices = schema.enum;
  if (typeof constant === "number" && Number.isFinite(constant)) return [];
  if (
    Array.isArray(choices) &&
    choices.length > 0 &&
    choices.every((choice) => typeof choice === "number" && Number.isFinite(choice))
  )
    return [];
  const bound = (inclusive: unknown, exclusive: unknown) =>
    typeof inclusive === "number" ? inclusive : typeof exclusive === "number" ? exclusive : undefined;
  const lower = bound(schema.minimum, schema.exclusiveMinimum);
  const upper = bound(schema.maximum, schema.exclusiveMaximum);
  const problems: string[] = [];
  if (lower === undefined || !Number.isFinite(lower)) problems.push("has no finite minimum");
  else if (lower < -MAX_SAFE) problems.push(`has a minimum (${lower}) below -(2^53-1)`);
  if (upper === undefined || !Number.isFinite(upper)) problems.push("has no finite maximum");
  else if (upper > MAX_SAFE) problems.push(`has a maximum (${upper}) above 2^53-1`);
  return problems;
}

const STRING_CANDIDATES = ["a", "aa", "US", "fuzz", "a1", "0123456789abcdef0123456789abcdef"];

/**
 * A value the schema most likely accepts (a valid base to vary one field of): every property
 * filled in, the smallest arrays, in-bounds numbers, strings of the least length that match.
 */
export function sampleOf(doc: OpenApiDocument, schema: unknown, depth = 0): unknown {
  const resolved = resolve(doc, schema);
  if (!resolved || depth > 20) return null;
  if ("const" in resolved) return resolved.const;
  if (Array.isArray(resolved.enum) && resolved.enum.length > 0) return resolved.enum[0];
  if ("default" in resolved) return resolved.default;
  for (const key of ["anyOf", "oneOf"]) {
    const alternatives = resolved[key];
    if (Array.isArray(alternatives) && alternatives.length > 0)
      return sampleOf(doc, alternatives[0], depth + 1);
  }
  if (Array.isArray(resolved.allOf))
    return Object.assign({}, ...resolved.allOf.map((member) => sampleOf(doc, member, depth + 1)));
  const type = typesOf(resolved).find((candidate) => candidate !== "null") ?? "object";
  switch (type) {
    case "object": {
      const properties = isJson(resolved.properties) ? resolved.properties : {};
      return Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, sampleOf(doc, property, depth + 1)]),
      );
    }
    case "array": {
      const count = Math.max(1, typeof resolved.minItems === "number" ? resolved.minItems : 1);
      return Array.from({ length: count }, () => sampleOf(doc, resolved.items, depth + 1));
    }
    case "integer":
    case "number": {
      const low = typeof resolved.minimum === "number" ? resolved.minimum : 0;
      const high = typeof resolved.maximum === "number" ? resolved.maximum : MAX_SAFE;
      return Math.min(Math.max(1, low), high);
    }
    case "boolean":
      return true;
    case "string":
      return sampleString(resolved);
    default:
      return null;
  }
}

function sampleString(schema: Json): string {
  if (schema.format === "email") return "fuzz@example.com";
  if (schema.format === "date-time") return new Date().toISOString();
  if (schema.format === "uri") return "https://example.com/";
  const min = typeof schema.minLength === "number" ? schema.minLength : 0;
  const max = typeof schema.maxLength === "number" ? schema.maxLength : Number.POSITIVE_INFINITY;
  const pattern = typeof schema.pattern === "string" ? new RegExp(schema.pattern, "u") : undefined;
  const fits = (text: string) => text.length >= min && text.length <= max && (!pattern || pattern.test(text));
  return [...STRING_CANDIDATES, "a".repeat(Math.max(min, 1))].find(fits) ?? "a".repeat(Math.max(min, 1));
}
