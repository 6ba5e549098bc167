import { ProblemSchema } from "@blossom/runtime";
import { routeFor } from "./routing-table.js";

type Json = Record<string, unknown>;

/** One service's own OpenAPI document. */
export interface ServiceDocument {
  service: string;
  document: Json;
}

const SCHEMA_REF = "#/components/schemas/";

/** `value` with every `$ref` to a renamed component schema pointing at its new name. */
function renameRefs(value: unknown, renames: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => renameRefs(item, renames));
  if (typeof value !== "object" || value === null) return value;
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "$ref" && typeof item === "string" && item.startsWith(SCHEMA_REF)) {
      const renamed = renames.get(item.slice(SCHEMA_REF.length));
      out[key] = renamed ? `${SCHEMA_REF}${renamed}` : item;
    } else out[key] = renameRefs(item, renames);
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The platform's document: the paths each service publishes that the gateway routes to that
 * very service (anything else is unreachable through the front door), and their component
 * schemas. A schema name two services use for different schemas is prefixed with the service
 * (`orders_Item`), and that service's references follow.
 */
export function mergeOpenApi(documents: ServiceDocument[], unavailable: string[] = []): Json {
  const schemas: Json = { Problem: ProblemSchema };
  const paths: Json = {};
  const tags: Array<{ name: string; description: string }> = [];
  for (const { service, document } of documents) {
    const components = (document.components as Json | undefined) ?? {};
    const own = (components.schemas as Json | undefined) ?? {};
    const renames = new Map<string, string>();
    for (const [name, schema] of Object.entries(own)) {
      if (name in schemas && !same(schemas[name], schema)) renames.set(name, `${service}_${name}`);
    }
    for (const [name, schema] of Object.entries(own)) {
      schemas[renames.get(name) ?? name] = renameRefs(schema, renames);
    }
    for (const [path, item] of Object.entries((document.paths as Json | undefined) ?? {})) {
      if (routeFor(path) !== service) continue;
      paths[path] = { ...((paths[path] as Json | undefined) ?? {}), ...(renameRefs(item, renames) as Json) };
    }
    tags.push({ name: service, description: `The ${service} service` });
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Blossom",
      version: "0.1.0",
      description:
        "The public API of the Blossom platform, through its gateway. Errors are RFC 9457 problems " +
        "(application/problem+json). Send `Authorization: Bearer <accessToken>` (from " +
        "`POST /api/auth/login`) to the routes that need a signed-in user.",
    },
    tags,
    paths,
    components: {
      schemas,
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
    security: [{}, { bearerAuth: [] }],
    ...(unavailable.length > 0 ? { "x-unavailable-services": unavailable } : {}),
  };
}
