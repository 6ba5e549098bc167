import type { TSchema } from "@sinclair/typebox";
import { ConfigSchema } from "./config.js";
import { GATEWAY, SERVICE_NAMES } from "./topology.js";

/**
 * docs/configuration.md, rendered from `ConfigSchema` (the one place every variable is declared,
 * with its default, bounds and description): one table for the platform, one for the gateway
 * and one per service. `config-reference.test.ts` fails while the file differs from this.
 */
export function renderConfigReference(): string {
  const groups = new Map<string, string[]>([
    ["platform", []],
    [GATEWAY, []],
  ]);
  for (const name of SERVICE_NAMES) groups.set(name, []);
  for (const [variable, schema] of Object.entries(ConfigSchema.properties)) {
    const owner = [GATEWAY, ...SERVICE_NAMES].find((name) => variable.startsWith(`${name.toUpperCase()}_`));
    groups.get(owner ?? "platform")?.push(row(variable, schema as TSchema));
  }
  const sections = [...groups].map(([group, rows]) => {
    const title = group === "platform" ? "Platform" : group === GATEWAY ? "Gateway" : `The ${group} service`;
    return [
      `## ${title}`,
      "",
      "| variable | default | accepts | what it sets |",
      "|---|---|---|---|",
      ...rows,
    ].join("\n");
  });
  return [
    "# Configuration reference",
    "",
    "<!-- Generated from ConfigSchema (apps/blossom/src/config.ts and each service's declared settings)",
    "by apps/blossom/src/config-reference.ts. Do not edit: run",
    "`UPDATE_GENERATED=1 npx vitest run apps/blossom/src/config-reference.test.ts`. -->",
    "",
    "Every process reads its configuration from environment variables once, at start-up, and",
    "refuses to start with one message per bad variable. The defaults work on a laptop; production",
    "(`NODE_ENV=production`) refuses development secrets and test-only switches.",
    "",
    ...sections.flatMap((section) => [section, ""]),
  ].join("\n");
}

function row(variable: string, schema: TSchema): string {
  const description = cellText(String(schema.description ?? ""));
  return `| \`${variable}\` | ${defaultOf(schema)} | ${accepts(schema)} | ${description} |`;
}

function defaultOf(schema: TSchema): string {
  if (schema.default === undefined) return "unset";
  if (schema.default === "") return "empty";
  return `\`${String(schema.default)}\``;
}

/** The constraints a value must meet, as a reader needs them (bounds, pattern, choices). */
function accepts(schema: TSchema): string {
  if (Array.isArray(schema.anyOf)) {
    const choices = (schema.anyOf as TSchema[])
      .map((option) => option.const)
      .filter((value) => value !== undefined);
    if (choices.length > 0) return choices.map((value) => `\`${String(value)}\``).join(", ");
  }
  switch (schema.type) {
    case "integer":
    case "number": {
      const kind = schema.type === "integer" ? "integer" : "number";
      const min = schema.minimum;
      const max = schema.maximum;
      if (min !== undefined && max !== undefined) return `${kind} ${min}–${max}`;
      if (min !== undefined) return `${kind} ≥ ${min}`;
      if (max !== undefined) return `${kind} ≤ ${max}`;
      return kind;
    }
    case "boolean":
      return "`true`, `false`";
    case "string":
      if (schema.pattern) return `string matching \`${cellText(String(schema.pattern))}\``;
      if (schema.minLength) return `string of ${schema.minLength}+ characters`;
      return "string";
    default:
      return "";
  }
}

/** A table cell's text: pipes would end the cell. */
function cellText(text: string): string {
  return text.replace(/\|/g, "\\|");
}
