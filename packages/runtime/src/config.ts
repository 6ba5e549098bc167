import { type Static, type TObject, type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

/** Raised when environment variables do not match the schema; lists every bad variable. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads a TypeBox object schema from environment variables, once, at start-up.
 *
 * Property names are the variable names. Strings are converted to the schema's types
 * (numbers, booleans), defaults are applied, and every variable that still does not match is
 * reported in one `ConfigError` with the variable's name, the value's problem and the schema's
 * description, so an operator fixes all of them in one go. Unknown variables are ignored
 * (the environment holds much more than ours). Values may also be typed already (numbers,
 * booleans), as a test passes them: they are checked the same way.
 */
export function loadConfig<S extends TObject>(schema: S, env: Readonly<Record<string, unknown>>): Static<S> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    // An empty variable means "not set": `FOO= blossom start` should fall back to the default.
    if (value !== undefined && value !== null && value !== "") raw[key] = value;
  }
  const problems: string[] = [];
  // TypeBox's conversion truncates "8080.5" or "1e3" to an integer: insist on plain digits first.
  for (const [name, value] of Object.entries(raw)) {
    if (isIntegerSchema(schema.properties[name] as TSchema) && !/^[+-]?\d+$/.test(String(value))) {
      const property = schema.properties[name] as TSchema | undefined;
      const hint = property?.description ? ` (${property.description})` : "";
      problems.push(`${name} = ${display(name, value)}: must be a whole number${hint}`);

      delete raw[name];
    }
  }
  const withDefaults = Value.Default(schema, Value.Convert(schema, raw)) as Record<string, unknown>;

  for (const error of Value.Errors(schema, withDefaults)) {
    const name = error.path.replace(/^\//, "").split("/")[0] ?? error.path;
    const property = schema.properties[name] as TSchema | undefined;
    const hint = property?.description ? ` (${property.description})` : "";
    const shown = raw[name] === undefined ? "is not set" : `= ${display(name, raw[name])}`;
    problems.push(`${name} ${shown}: ${error.message}${hint}`);
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return withDefaults as Static<S>;
}

/** A TCP port number variable. */
export const PortSchema = (defaultPort: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort, description });

/** A comma-separated list variable, kept as the raw string and split by `splitList`. */
export function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

function isIntegerSchema(schema: TSchema | undefined): boolean {
  if (!schema) return false;
  if (schema.type === "integer") return true;
  const variants = (schema.anyOf ?? schema.oneOf) as TSchema[] | undefined;
  return Array.isArray(variants) && variants.some((variant) => variant.type === "integer");
}

/** A value as shown in an error: secrets (keys, passwords, tokens) are never echoed back. */
function display(name: string, value: unknown): string {
  return /PASSWORD|SECRET|KEY|TOKEN/i.test(name) ? "(hidden)" : JSON.stringify(value);
}
