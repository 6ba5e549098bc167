import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The layout rules, checked on the source files themselves (no build, no module loading):
 *
 * - a service depends on another service only through its published contracts
^ *   (`@blossom/<other>-contracts`), never its internals, and never by a relative path out of
 *   its own directory;
 * - the shared packages never depend on a service;
 * - a service's domain (`src/domain/**`) is plain logic: no database, HTTP, bus or driver, and
 *   nothing from its own `store` or `api` layers;
 * - only the configuration loader and the CLI entry point read `process.env`;
 * - every service has the same shape: src/{api,domain,store,events} and a README.md.
 *
 * Every failure lists the offending file, line and import.
 */

const ROOT = resolve(import.meta.dirname, "..");

const rel = (path: string) => relative(ROOT, path).split(sep).join("/");

function directoriesIn(path: string): string[] {
  if (!existsSync(path)) return [];
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** Every TypeScript source file under `dir`, recursively (no node_modules, no build output). */
function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && entry.name !== "dist") files.push(...sourceFiles(path));
    } else if (/\.[cm]?tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
      files.push(path);
    }
  }
  return files.sort();
}

const isTestFile = (path: string) => /\.test\.[cm]?tsx?$/.test(path);

/**
 * The code with comments blanked out (newlines kept, so offsets still give line numbers), so
 * that an import shown in a doc comment is not taken for a real one. Strings are kept as they are.
 */
function stripComments(code: string): string {
  let out = "";
  let i = 0;
  while (i < code.length) {
    const char = code[i] as string;
    const next = code[i + 1];
    if (char === "/" && next === "/") {
      while (i < code.length && code[i] !== "\n") {
        out += " ";
        i++;
      }
    } else if (char === "/" && next === "*") {
      const end = code.indexOf("*/", i + 2);
      const stop = end === -1 ? code.length : end + 2;
      out += code.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (char === '"' || char === "'" || char === "`") {
      let j = i + 1;
      while (j < code.length && code[j] !== char) j += code[j] === "\\" ? 2 : 1;
      out += code.slice(i, j + 1);
      i = j + 1;
    } else {
      out += char;
      i++;
    }
  }
  return out;
}

interface ImportRef {
  specifier: string;
  line: number;
}

const IMPORT_PATTERNS = [
  // import x from "m"; import { a, type B } from "m"; import * as m from "m"; export { a } from "m";
  // export * from "m"; import type { T } from "m" (also spread over several lines)
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s*)?["']([^"'\n]+)["']/g,
  // import("m"), await import("m")
  /\bimport\s*\(\s*["'`]([^"'`\n]+)["'`]\s*\)/g,
  // require("m")
  /\brequire\s*\(\s*["'`]([^"'`\n]+)["'`]\s*\)/g,
];

/** The modules a file imports or re-exports, statically or dynamically, with their line. */
function importsOf(code: string): ImportRef[] {
  const stripped = stripComments(code);
  const found: ImportRef[] = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of stripped.matchAll(pattern)) {
      const specifier = match[1] as string;
      const at = (match.index ?? 0) + match[0].lastIndexOf(specifier);
      found.push({ specifier, line: stripped.slice(0, at).split("\n").length });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

/** Where a file reads the environment directly: `process.env`, `process["env"]`, `{ env } = process`, `env` from node:process. */
function envReadsOf(code: string): number[] {
  const stripped = stripComments(code);
  const patterns = [
    /\bprocess\s*(?:\?\.|\.)\s*env\b/g,
    /\bprocess\s*\[\s*["'`]env["'`]\s*\]/g,
    /\{[^{}]*\benv\b[^{}]*\}\s*=\s*(?:globalThis\.)?process\b/g,
    /\bimport\s*\{[^}]*\benv\b[^}]*\}\s*from\s*["'](?:node:)?process["']/g,
  ];
  const lines = new Set<number>();
  for (const pattern of patterns) {
    for (const match of stripped.matchAll(pattern)) {
      lines.add(stripped.slice(0, match.index ?? 0).split("\n").length);
    }
  }
  return [...lines].sort((a, b) => a - b);
}

interface SourceFile {
  path: string;
  /** Repository-relative, with forward slashes. */
  name: string;
  imports: ImportRef[];
  code: string;
}

const cache = new Map<string, SourceFile>();
function load(path: string): SourceFile {
  let file = cache.get(path);
  if (!file) {
    const code = readFileSync(path, "utf8");
    file = { path, name: rel(path), imports: importsOf(code), code };
    cache.set(path, file);
  }
  return file;
}

const SERVICE_DIRS = directoriesIn(join(ROOT, "services"));
const PACKAGE_DIRS = directoriesIn(join(ROOT, "packages"));
const APP_DIRS = directoriesIn(join(ROOT, "apps"));

interface ServicePackage {
  service: string;
  /** The service itself, or its published contracts (a package of their own). */
  kind: "service" | "contracts";
}

function manifestName(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return (JSON.parse(readFileSync(path, "utf8")) as { name?: string }).name;
}

/**
 * Every npm name that belongs to a service: `@blossom/users` (services/users/package.json) and,
 * where the contracts are a package of their own, `@blossom/users-contracts`
 * (services/users/contracts/package.json).
 */
const SERVICE_PACKAGES = new Map<string, ServicePackage>();
for (const service of SERVICE_DIRS) {
  const own = manifestName(join(ROOT, "services", service, "package.json"));
  if (own) SERVICE_PACKAGES.set(own, { service, kind: "service" });
  const contracts = manifestName(join(ROOT, "services", service, "contracts", "package.json"));
  if (contracts) SERVICE_PACKAGES.set(contracts, { service, kind: "contracts" });
}

/** The service an import names, and whether it names only its contracts. */
function servicePackageOf(specifier: string): { service: string; contractsOnly: boolean } | undefined {
  for (const [name, { service, kind }] of SERVICE_PACKAGES) {
    if (specifier === name || specifier.startsWith(`${name}/`)) {
      return { service, contractsOnly: kind === "contracts" };
    }
  }
  return undefined;
}

/** A service's own code: its src and, where they are a package of their own, its contracts. */
const serviceSources = (service: string) =>
  [join(ROOT, "services", service, "src"), join(ROOT, "services", service, "contracts", "src")].flatMap(
    (dir) => sourceFiles(dir),
  );

function isRelative(specifier: string): boolean {
  return specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." || specifier === "..";
}

const isInside = (path: string, dir: string) => path === dir || path.startsWith(`${dir}${sep}`);

const describeImport = (file: SourceFile, ref: ImportRef, why: string) =>
  `${file.name}:${ref.line} imports "${ref.specifier}" (${why})`;

/**
 * The edge of the platform: not a business service (no database, no events, no domain), so the
 * four-layer shape does not apply to it. It is still a service for every import rule.
 */
const EDGE_SERVICES = new Set(["gateway"]);

/**
 * Where `process.env` may be read: the one loader and the one entry point. Tests, test support
 * (tests/, bench/, `*.test.ts`) are out of scope, and so is `packages/testkit`: test helpers
 * that choose the adapters of a test run (BLOSSOM_TEST_ADAPTERS) and never run in the platform.
 */
// The entry points: the process's, and the gateway's thread's (its tracing reads OTEL_* as main.ts's does).
const ENV_READERS = new Set([
  "packages/runtime/src/config.ts",
  "apps/blossom/src/main.ts",
  "apps/blossom/src/gateway-thread/gateway-worker.ts",
]);
const ENV_EXEMPT_PACKAGES = new Set(["testkit"]);

/** Modules that are infrastructure: a domain file must not import them. */
const INFRASTRUCTURE: Array<{ test: (specifier: string) => boolean; what: string }> = [
  { test: (s) => s === "kysely" || s.startsWith("kysely/"), what: "database" },
  {
    test: (s) => s === "fastify" || s.startsWith("fastify/") || s.startsWith("@fastify/"),
    what: "HTTP server",
  },
  { test: (s) => s === "undici" || s.startsWith("undici/"), what: "HTTP client" },
  { test: (s) => s.startsWith("@nats-io/") || s === "nats" || s.startsWith("nats/"), what: "bus driver" },
  { test: (s) => s === "pg" || s.startsWith("pg/") || s.startsWith("pg-"), what: "database driver" },
  { test: (s) => s.startsWith("@electric-sql/"), what: "database driver" },
  {
    test: (s) => /^(?:node:)?(?:http|https|http2|net)(?:\/|$)/.test(s),
    what: "network I/O",
  },
  {
    test: (s) => /^@blossom\/(?:store|bus|client|host|auth)(?:\/|$)/.test(s),
    what: "platform infrastructure package",
  },
];

describe("the import scanner (so that the rules below can fail)", () => {
  it("finds static, multi-line, type-only, re-exported, dynamic and side-effect imports, not commented ones", () => {
    const code = [
      'import { a } from "one";',
      "import {",
      "  b,",
      "  type C,",
      '} from "two";',
      'import type { D } from "three";',
      'export * from "four";',
      'export { e } from "five";',
      'import "six";',
      'const lazy = await import("seven");',
      '// import { x } from "commented";',
      '/* import { y } from "block"; */',
      'const url = "http://not-a-comment"; import z from "eight";',
      'export const notAnImport = "from nowhere";',
    ].join("\n");
    expect(importsOf(code)).toEqual([
      { specifier: "one", line: 1 },
      { specifier: "two", line: 5 },
      { specifier: "three", line: 6 },
      { specifier: "four", line: 7 },
      { specifier: "five", line: 8 },
      { specifier: "six", line: 9 },
      { specifier: "seven", line: 10 },
      { specifier: "eight", line: 13 },
    ]);
  });

  it("finds every way of reading the environment, and not mentions in comments", () => {
    const code = [
      "const a = process.env.PORT;",
      'const b = process["env"];',
      "const { env } = process;",
      'import { env as e } from "node:process";',
      "// process.env in a comment",
      'const text = "see process.env";',
      "const c = process?.env;",
    ].join("\n");
    // Mentions inside string literals are matched too: cheap to avoid, and never worth it.
    expect(envReadsOf(code)).toEqual([1, 2, 3, 4, 6, 7]);
  });

  it("sees the repository: services, packages and the cross-service contract imports", () => {
    expect(SERVICE_DIRS).toEqual(
      expect.arrayContaining(["users", "inventory", "orders", "payments", "notifications"]),
    );
    expect(PACKAGE_DIRS).toEqual(expect.arrayContaining(["runtime", "store", "bus", "host"]));
    expect(SERVICE_PACKAGES.get("@blossom/users")).toEqual({ service: "users", kind: "service" });
    const contractImports = SERVICE_DIRS.flatMap((service) =>
      serviceSources(service).flatMap((path) =>
        load(path).imports.filter((ref) => {
          const target = servicePackageOf(ref.specifier);
          return target !== undefined && target.service !== service && target.contractsOnly;
        }),
      ),
    );
    // e.g. notifications consumes users' events: the scanner must see such imports, or it checks nothing.
    expect(contractImports.length).toBeGreaterThan(0);
  });
});

describe("layout rules", () => {
  it("a service imports another service only through its contracts package, and never by a relative path out of its directory", () => {
    const violations: string[] = [];
    for (const service of SERVICE_DIRS) {
      const serviceDir = join(ROOT, "services", service);
      for (const path of serviceSources(service)) {
        const file = load(path);
        for (const ref of file.imports) {
          const target = servicePackageOf(ref.specifier);
          if (target && target.service !== service && !target.contractsOnly) {
            violations.push(
              describeImport(file, ref, `${target.service}'s internals: import its contracts only`),
            );
          }
          if (isRelative(ref.specifier)) {
            const resolved = resolve(dirname(path), ref.specifier);
            if (!isInside(resolved, serviceDir)) {
              violations.push(
                describeImport(file, ref, `relative path out of services/${service}: ${rel(resolved)}`),
              );
            }
          }
        }
      }
    }
    expect(violations, `cross-service imports:\n  ${violations.join("\n  ")}`).toEqual([]);
  });

  it("a service's contracts package depends on the light event-contracts package and TypeBox only", () => {
    const allowed = (specifier: string) =>
      specifier === "@blossom/event-contracts" || specifier === "@sinclair/typebox" || isRelative(specifier);
    const violations: string[] = [];
    for (const service of SERVICE_DIRS) {
      const dir = join(ROOT, "services", service, "contracts");
      const manifest = join(dir, "package.json");
      if (!existsSync(manifest)) continue;
      const dependencies = Object.keys(
        (JSON.parse(readFileSync(manifest, "utf8")) as { dependencies?: Record<string, string> })
          .dependencies ?? {},
      );
      for (const name of dependencies.filter((name) => !allowed(name)))
        violations.push(`${rel(manifest)} depends on ${name}`);
      for (const path of sourceFiles(join(dir, "src"))) {
        const file = load(path);
        for (const ref of file.imports.filter((ref) => !allowed(ref.specifier)))
          violations.push(describeImport(file, ref, "a contract loads nothing but its schemas"));
      }
    }
    expect(violations, `heavy contracts:\n  ${violations.join("\n  ")}`).toEqual([]);
  });

  it("a shared package never imports a service", () => {
    const violations: string[] = [];
    const servicesDir = join(ROOT, "services");
    for (const pkg of PACKAGE_DIRS) {
      for (const path of sourceFiles(join(ROOT, "packages", pkg, "src"))) {
        const file = load(path);
        for (const ref of file.imports) {
          const target = servicePackageOf(ref.specifier);
          if (target)
            violations.push(
              describeImport(file, ref, `packages/${pkg} depends on service ${target.service}`),
            );
          if (isRelative(ref.specifier) && isInside(resolve(dirname(path), ref.specifier), servicesDir)) {
            violations.push(describeImport(file, ref, `packages/${pkg} reaches into services/ by path`));
          }
        }
      }
    }
    expect(violations, `packages importing services:\n  ${violations.join("\n  ")}`).toEqual([]);
  });

  it("domain code imports no infrastructure and nothing from its service's store or api", () => {
    const violations: string[] = [];
    let domainFiles = 0;
    for (const service of SERVICE_DIRS) {
      const src = join(ROOT, "services", service, "src");
      for (const path of sourceFiles(join(src, "domain"))) {
        domainFiles++;
        const file = load(path);
        for (const ref of file.imports) {
          const infrastructure = INFRASTRUCTURE.find((rule) => rule.test(ref.specifier));
          if (infrastructure) violations.push(describeImport(file, ref, infrastructure.what));
          if (isRelative(ref.specifier)) {
            const resolved = resolve(dirname(path), ref.specifier);
            for (const layer of ["store", "api"]) {
              if (isInside(resolved, join(src, layer))) {
                violations.push(describeImport(file, ref, `the ${layer} layer`));
              }
            }
          }
        }
      }
    }
    expect(domainFiles, "no domain file found: is the scan looking in the right place?").toBeGreaterThan(0);
    expect(violations, `domain files importing infrastructure:\n  ${violations.join("\n  ")}`).toEqual([]);
  });

  it("only the configuration loader and the CLI entry point read process.env", () => {
    const roots = [
      ...PACKAGE_DIRS.filter((pkg) => !ENV_EXEMPT_PACKAGES.has(pkg)).map((pkg) =>
        join(ROOT, "packages", pkg, "src"),
      ),
      ...SERVICE_DIRS.map((service) => join(ROOT, "services", service)),
      ...APP_DIRS.map((app) => join(ROOT, "apps", app, "src")),
    ];
    const violations: string[] = [];
    let scanned = 0;
    for (const path of roots.flatMap((root) => sourceFiles(root))) {
      if (isTestFile(path)) continue;
      scanned++;
      const file = load(path);
      if (ENV_READERS.has(file.name)) continue;
      for (const line of envReadsOf(file.code)) {
        violations.push(`${file.name}:${line} reads process.env: ${file.code.split("\n")[line - 1]?.trim()}`);
      }
    }
    expect(scanned).toBeGreaterThan(20);
    // The entry point does read it (else the allowlist is stale and the rule checks nothing real).
    expect(envReadsOf(load(join(ROOT, "apps/blossom/src/main.ts")).code).length).toBeGreaterThan(0);
    expect(violations, `environment read outside the config loader:\n  ${violations.join("\n  ")}`).toEqual(
      [],
    );
  });

  it("every business service has src/api, src/domain, src/store and src/events, each with code", () => {
    const missing: string[] = [];
    for (const service of SERVICE_DIRS.filter((name) => !EDGE_SERVICES.has(name))) {
      for (const layer of ["api", "domain", "store", "events"]) {
        const dir = join(ROOT, "services", service, "src", layer);
        const code = sourceFiles(dir).filter((path) => !isTestFile(path));
        if (!existsSync(dir) || !statSync(dir).isDirectory())
          missing.push(`services/${service}/src/${layer}/ is missing`);
        else if (code.length === 0) missing.push(`services/${service}/src/${layer}/ has no source file`);
      }
    }
    expect(missing, `service layout:\n  ${missing.join("\n  ")}`).toEqual([]);
  });

  it("every service has a README.md", () => {
    const missing = SERVICE_DIRS.filter(
      (service) => !existsSync(join(ROOT, "services", service, "README.md")),
    ).map((service) => `services/${service}/README.md is missing`);
    expect(missing, `service READMEs:\n  ${missing.join("\n  ")}`).toEqual([]);
  });
});
