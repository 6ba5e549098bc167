import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import { HttpProblem } from "./problem.js";

/**
 * Numbers are plain decimal numbers.
 *
 * Fastify's Ajv (`coerceTypes`) turns strings into the schema's number type, and is lax about
 * it: `"Infinity"`, `"1e309"` and a 400-digit string become Infinity, `"0x10"` becomes 16, `" 5"`
 * and `"+5"` become 5, `"1e2"` becomes 100. Worse, a coerced Infinity is not checked again: Ajv
 * skips `minimum`/`maximum` for a number that is not finite, so `?limit=Infinity` passed
 * `maximum: 100` and reached the database (500). It does that for the query string, path
 * parameters and headers (which are all strings), and for strings in a JSON body too
 * (`{"stock":"Infinity"}`).
 *
 * So every route whose schema has an integer or number field gets one more check, of the values
 * as received, before Ajv sees them. A URL value (query string, path parameter, header) must be
 * plain decimal: an integer is an optional `-` and digits, within ±(2^53-1); a number may also
 * have a decimal fraction, and must be finite; negative zero is refused; a scalar given twice
 * (`?limit=1&limit=2`) is refused. A JSON body's number is Ajv's to judge (a non-finite one
 * fails its type check); a string given for it is held to the URL's syntax. A refusal is the
 * runtime's ordinary validation problem (400, `validation-error`, with `errors[]` naming the part
 * and the field), like one of Ajv's.
 *
 * The check is a route-level `preValidation` hook added by an `onRoute` hook, so it runs after
 * every instance-level `preValidation` hook (authentication: an anonymous caller of a protected
 * route is told 401 before anything about its input) and right before the schema validation.
 */

type NumericKind = "integer" | "number";
type Part = "querystring" | "params" | "headers" | "body";

/** A path segment matching every element of an array. */
const EACH_ITEM = Symbol("each item");
/** A path segment matching every member of an object (`additionalProperties`). */
const EACH_MEMBER = Symbol("each member");
type Segment = string | typeof EACH_ITEM | typeof EACH_MEMBER;

interface NumericField {
  part: Part;
  /** Keys from the part's root to the field; one name for the URL's parts. */
  path: Segment[];
  kind: NumericKind;
  /** Takes null too, which Ajv coerces the empty string to. */
  nullable: boolean;
}

type Schema = Record<string, unknown>;

const INTEGER_SYNTAX = /^-?[0-9]+$/;
const NUMBER_SYNTAX = /^-?[0-9]+(?:\.[0-9]+)?$/;
const NEGATIVE_ZERO = /^-0+(?:\.0+)?$/;
/** Deep enough for any body Blossom takes (they nest four levels); a recursive schema stops here. */
const MAX_SCHEMA_DEPTH = 16;

const MESSAGES = {
  repeated: "must be given once, not repeated",
  integer:
    "must be an integer in plain decimal digits (an optional leading '-'; no '+', exponent, hex, fraction or spaces)",
  number:
    "must be a number in plain decimal notation (an optional leading '-', digits, an optional fraction; no '+', exponent, hex or spaces)",
  negativeZero: "must not be negative zero",
  unsafeInteger: `must be an integer from ${-Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`,
  notFinite: "is out of range",
} as const;

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typesOf(schema: Schema): string[] {
  const type = schema.type;
  if (typeof type === "string") return [type];
  return Array.isArray(type) ? type.filter((entry): entry is string => typeof entry === "string") : [];
}

function alternativesOf(schema: Schema): unknown[] | undefined {
  const alternatives = [schema.anyOf, schema.oneOf].find(Array.isArray) as unknown[] | undefined;
  return alternatives && alternatives.length > 0 ? alternatives : undefined;
}

/** The JSON types a schema (or every alternative of its union) takes. */
function acceptedTypes(schema: unknown): Set<string> | undefined {
  if (!isSchema(schema)) return undefined;
  const alternatives = alternativesOf(schema);
  if (alternatives) {
    const types = new Set<string>();
    for (const alternative of alternatives) {
      const accepted = acceptedTypes(alternative);
      if (!accepted) return undefined;
      for (const type of accepted) types.add(type);
    }
    return types;
  }
  const types = typesOf(schema);
  return types.length === 0 ? undefined : new Set(types);
}

/**
 * Whether a field's schema wants a number: `integer` or `number` (maybe nullable), alone or as
 * every alternative of a union. A schema that also takes a string (a union with a literal, say)
 * is left to Ajv: its strings may be legitimate.
 */
export function numericKind(schema: unknown): NumericKind | undefined {
  const types = acceptedTypes(schema);
  if (!types || [...types].some((type) => type !== "integer" && type !== "number" && type !== "null"))
    return undefined;
  if (types.has("number")) return "number";
  return types.has("integer") ? "integer" : undefined;
}

/** The properties of an object schema, its `allOf` members' included (TypeBox's `Intersect`). */
function propertiesOf(schema: unknown): Array<[string, unknown]> {
  if (!isSchema(schema)) return [];
  const own = isSchema(schema.properties) ? Object.entries(schema.properties) : [];
  const members = Array.isArray(schema.allOf) ? schema.allOf.flatMap(propertiesOf) : [];
  return [...own, ...members];
}

/** Every numeric field under a body schema: its properties, array items and unions, nested. */
function bodyFields(schema: unknown, path: Segment[], fields: NumericField[], depth = 0): void {
  if (!isSchema(schema) || depth > MAX_SCHEMA_DEPTH) return;
  const kind = numericKind(schema);
  if (kind) {
    fields.push({ part: "body", path, kind, nullable: acceptedTypes(schema)?.has("null") ?? false });
    return;
  }
  for (const alternative of alternativesOf(schema) ?? []) bodyFields(alternative, path, fields, depth + 1);
  for (const [name, property] of propertiesOf(schema))
    bodyFields(property, [...path, name], fields, depth + 1);
  if (isSchema(schema.items)) bodyFields(schema.items, [...path, EACH_ITEM], fields, depth + 1);
  if (isSchema(schema.additionalProperties))
    bodyFields(schema.additionalProperties, [...path, EACH_MEMBER], fields, depth + 1);
}

/** The schema of a JSON body: the route's `body`, or its `application/json` content. */
function jsonBodySchema(body: unknown): unknown {
  if (!isSchema(body) || !isSchema(body.content)) return body;
  const json = body.content["application/json"];
  return isSchema(json) ? json.schema : undefined;
}

/** The integer and number fields of a route's querystring, params, headers and body schemas. */
export function numericFields(schema: unknown): NumericField[] {
  if (!isSchema(schema)) return [];
  const fields: NumericField[] = [];
  for (const part of ["querystring", "params", "headers"] as const) {
    for (const [name, property] of propertiesOf(schema[part])) {
      const kind = numericKind(property);
      if (!kind) continue;
      const nullable = acceptedTypes(property)?.has("null") ?? false;
      // Node lower-cases every received header name.
      fields.push({ part, path: [part === "headers" ? name.toLowerCase() : name], kind, nullable });
    }
  }
  bodyFields(jsonBodySchema(schema.body), [], fields);
  // A union of objects may name one field twice.
  const seen = new Set<string>();
  return fields.filter((field) => {
    const key = `${field.part} ${field.path.map(String).join("\u0000")}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** What is wrong with a raw URL value for a field of this kind, or undefined when nothing is. */
export function numericSyntaxProblem(raw: unknown, kind: NumericKind): string | undefined {
  if (Array.isArray(raw)) return MESSAGES.repeated;
  // Not a string: not from the URL (a hook before this one set it); Ajv judges it.
  if (typeof raw !== "string") return undefined;
  if (!(kind === "integer" ? INTEGER_SYNTAX : NUMBER_SYNTAX).test(raw)) return MESSAGES[kind];
  if (NEGATIVE_ZERO.test(raw)) return MESSAGES.negativeZero;
  const value = Number(raw);
  if (kind === "integer" && !Number.isSafeInteger(value)) return MESSAGES.unsafeInteger;
  if (!Number.isFinite(value)) return MESSAGES.notFinite;
  return undefined;
}

/**
 * What is wrong with a JSON body's value for a number field: only a string (which Ajv would
 * coerce), or a one-element array holding one (which Ajv would unwrap first), is judged here.
 */
function bodyValueProblem(value: unknown, kind: NumericKind): string | undefined {
  const single = Array.isArray(value) && value.length === 1 ? value[0] : value;
  return typeof single === "string" ? numericSyntaxProblem(single, kind) : undefined;
}

/** A JSON pointer token (RFC 6901), as Ajv writes `instancePath`. */
function pointerToken(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

function partOf(request: FastifyRequest, part: Part): unknown {
  switch (part) {
    case "querystring":
      return request.query;
    case "params":
      return request.params;
    case "headers":
      return request.headers;
    default:
      return request.body;
  }
}

/** Calls `visit` with each value at `path` under `value` (arrays and maps expanded), and its pointer. */
function eachValue(
  value: unknown,
  path: Segment[],
  pointer: string,
  visit: (found: unknown, pointer: string) => void,
): void {
  const [head, ...rest] = path;
  if (head === undefined) {
    visit(value, pointer);
    return;
  }
  if (head === EACH_ITEM) {
    if (Array.isArray(value))
      for (const [index, item] of value.entries()) eachValue(item, rest, `${pointer}/${index}`, visit);
    return;
  }
  if (!isSchema(value)) return;
  const keys = head === EACH_MEMBER ? Object.keys(value) : Object.hasOwn(value, head) ? [head] : [];
  for (const key of keys) eachValue(value[key], rest, `${pointer}/${pointerToken(key)}`, visit);
}

const STRICT_NUMBERS = Symbol("blossom.strictNumbers");

type PreValidation = ((
  request: FastifyRequest,
  reply: FastifyReply,
  done: (error?: Error) => void,
) => void) & {
  [STRICT_NUMBERS]?: true;
};

function strictNumbersHook(fields: NumericField[]): PreValidation {
  const hook: PreValidation = (request, _reply, done) => {
    const errors: Array<{ in: Part; pointer: string; message: string }> = [];
    for (const field of fields) {
      eachValue(partOf(request, field.part), field.path, "", (raw, pointer) => {
        if (raw === undefined || (raw === "" && field.nullable)) return;
        const message =
          field.part === "body" ? bodyValueProblem(raw, field.kind) : numericSyntaxProblem(raw, field.kind);
        if (message) errors.push({ in: field.part, pointer: pointer || "/", message });
      });
    }
    const first = errors[0];
    if (!first) {
      done();
      return;
    }
    const where = first.pointer === "/" ? first.in : `${first.in}${first.pointer}`;
    done(HttpProblem.of("validation", `${where} ${first.message}`, { errors }));
  };
  hook[STRICT_NUMBERS] = true;
  return hook;
}

/**
 * Makes every route added to `app` from now on (its child plugins' included) check the values of
 * its integer and number fields as received, before validation; see the module's comment.
 * Called once by `createServer`, before any route.
 */
export function installStrictNumbers(app: FastifyInstance): void {
  app.addHook("onRoute", (route: RouteOptions) => {
    const fields = numericFields(route.schema);
    if (fields.length === 0) return;
    const existing = route.preValidation;
    const hooks = (Array.isArray(existing) ? existing : existing ? [existing] : []) as PreValidation[];
    if (hooks.some((hook) => hook[STRICT_NUMBERS])) return;
    route.preValidation = [...hooks, strictNumbersHook(fields)] as RouteOptions["preValidation"];
  });
}
