import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigSchema } from "../../apps/blossom/src/config.js";
import { GATEWAY_DEFAULT_METRICS_PORT } from "../../apps/blossom/src/topology.js";
import { envOf, execForm, parseDockerfile } from "./support/dockerfile.js";
import { REPO_ROOT } from "./support/manifests.js";

// Docker is not available where the tests run: the Dockerfile is checked statically, against
// the repository it builds and the Kubernetes manifests that run it.
const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");
const { stages } = parseDockerfile(read("Dockerfile"));
const runtime = stages.at(-1);
const all = stages.flatMap((stage) => stage.instructions);
const final = (keyword: string) =>
  runtime?.instructions.filter((instruction) => instruction.keyword === keyword) ?? [];
const packageJson = JSON.parse(read("package.json")) as {
  scripts: Record<string, string>;
  engines: { node: string };
};

describe("Dockerfile", () => {
  it("builds from Node base images pinned to a release that satisfies package.json's engines", () => {
    const [minMajor, minMinor] = (/>=(\d+)\.(\d+)/.exec(packageJson.engines.node) ?? []).slice(1).map(Number);
    const names = new Set<string>();
    for (const stage of stages) {
      if (!names.has(stage.image)) {
        const match = /^node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim$/.exec(stage.image);
        expect(match, `FROM ${stage.image}`).not.toBeNull();
        const [major, minor] = [Number(match?.[1]), Number(match?.[2])];
        expect(major === minMajor && minor >= (minMinor ?? 0), stage.image).toBe(true);
      }
      if (stage.name) names.add(stage.name);
    }
    expect(stages.length).toBeGreaterThanOrEqual(2); // multi-stage: no compiler in the final image
  });

  it("copies only paths that exist, from the context or an earlier stage, and never downloads with ADD", () => {
    expect(all.filter((instruction) => instruction.keyword === "ADD")).toEqual([]);
    const ignored = read(".dockerignore").split("\n");
    const earlier: string[] = [];
    for (const stage of stages) {
      for (const copy of stage.instructions.filter((instruction) => instruction.keyword === "COPY")) {
        const sources = copy.args.split(/\s+/).slice(0, -1);
        if (copy.flags.from) expect(earlier, `line ${copy.line}`).toContain(copy.flags.from);
        else
          for (const source of sources) {
            expect(existsSync(join(REPO_ROOT, source)), `line ${copy.line}: ${source}`).toBe(true);
            expect(ignored, `line ${copy.line}: ${source} is in .dockerignore`).not.toContain(source);
          }
      }
      if (stage.name) earlier.push(stage.name);
    }
    // Installed and built files are made in the image, never taken from the developer's machine.
    for (const pattern of ["**/node_modules", "**/dist", ".git"]) expect(ignored).toContain(pattern);
  });

  it("installs from the lock file, builds with the package.json script, then drops dev dependencies", () => {
    const runs = all
      .filter((instruction) => instruction.keyword === "RUN")
      .map((instruction) => instruction.args);
    const script = runs.join("\n");
    expect(script).toMatch(/\bnpm ci\b/);
    expect(script).not.toMatch(/\bnpm install\b/);
    // The services' JavaScript and the storefront's static files (apps/web/dist, served by the gateway).
    expect(packageJson.scripts.build).toBe("tsc -b tsconfig.build.json && npm run build:web");
    expect(packageJson.scripts["build:web"]).toBe("npm run build -w @blossom/web");
    const build = script.indexOf("npm run build");
    const prune = script.indexOf("npm prune --omit=dev");
    expect(build).toBeGreaterThan(script.indexOf("npm ci"));
    expect(prune).toBeGreaterThan(build);
  });

  it("starts `blossom start` from the compiled launcher, with the service as its argument", () => {
    const [entrypoint] = final("ENTRYPOINT");
    expect(execForm(entrypoint?.args ?? "")).toEqual(["node", "apps/blossom/bin/blossom.js", "start"]);
    expect(execForm(final("CMD")[0]?.args ?? "")).toEqual([]);
    // The launcher the build makes: bin/blossom.js imports dist/main.js, which tsc -b compiles
    // from apps/blossom/src/main.ts (rootDir src, outDir dist, referenced by tsconfig.build.json).
    expect(read("apps/blossom/bin/blossom.js")).toMatch(/import "\.\.\/dist\/main\.js"/);
    const tsconfig = JSON.parse(read("apps/blossom/tsconfig.json")) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: "src", outDir: "dist" });
    expect(existsSync(join(REPO_ROOT, "apps/blossom/src/main.ts"))).toBe(true);
    expect(read("tsconfig.build.json")).toContain('"./apps/blossom"');
    // The same program `npm run blossom` runs: the build when current, else the sources.
    expect(packageJson.scripts.blossom).toContain("apps/blossom/bin/blossom-dev.js");
    const dev = read("apps/blossom/bin/blossom-dev.js");
    expect(dev).toMatch(/import\("\.\.\/dist\/main\.js"\)/);
    expect(dev).toContain("apps/blossom/src/main.ts");
  });

  it("runs as a numeric non-root user, the one the Kubernetes manifests require", () => {
    const user = final("USER").at(-1)?.args ?? "";
    const uid = Number(user.split(":")[0]);
    expect(Number.isInteger(uid) && uid > 0, `USER ${user}`).toBe(true);
    const defaults = parse(read("deploy/k8s/base/deployment-defaults.yaml")) as {
      spec: { template: { spec: { securityContext: { runAsUser: number } } } };
    };
    expect(defaults.spec.template.spec.securityContext.runAsUser).toBe(uid);
  });

  it("listens on all interfaces on the port it exposes, with only variables the platform knows", () => {
    const environment = envOf(runtime?.instructions ?? []);
    expect(Object.keys(environment).filter((name) => !(name in ConfigSchema.properties))).toEqual([]);
    expect(environment.HOST).toBe("0.0.0.0");
    // The HTTP port, and the gateway's internal /metrics listener.
    expect(final("EXPOSE").map((instruction) => instruction.args)).toEqual([
      `${environment.PORT} ${GATEWAY_DEFAULT_METRICS_PORT}`,
    ]);
    expect(environment.NODE_ENV).toBe("production");
  });

  it("checks its health with Node's fetch on the liveness endpoint", () => {
    const [healthcheck] = final("HEALTHCHECK");
    const command = execForm(healthcheck?.args ?? "");
    expect(command?.[0]).toBe("node");
    expect(command?.join(" ")).toContain("/health/live");
    expect(command?.join(" ")).toContain("process.env.PORT");
  });
});
