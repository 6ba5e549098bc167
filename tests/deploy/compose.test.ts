import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseServiceLocation } from "@blossom/client";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigSchema, readConfig } from "../../apps/blossom/src/config.js";
import { GATEWAY, GATEWAY_DEFAULT_METRICS_PORT, RUNNABLE_NAMES } from "../../apps/blossom/src/topology.js";
import { envOf, parseDockerfile } from "./support/dockerfile.js";
import { REPO_ROOT } from "./support/manifests.js";

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { replicas?: number };
  read_only?: boolean;
}

const COMPOSE = join(REPO_ROOT, "deploy/compose.yaml");
const composeDir = dirname(COMPOSE);
// merge: the file shares settings through YAML merge keys (<<), as Docker Compose reads them.
const compose = parse(readFileSync(COMPOSE, "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const blossom = Object.entries(services).filter(([, service]) => service.image === services.gateway?.image);
const imageEnvironment = envOf(
  parseDockerfile(readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8")).stages.at(-1)?.instructions ?? [],
);

describe("deploy/compose.yaml", () => {
  it("runs every Blossom service from the repository's image, with replicas", () => {
    expect(blossom.map(([, service]) => service.command?.[0]).sort()).toEqual([...RUNNABLE_NAMES].sort());
    for (const [name, service] of blossom) {
      expect(service.command, name).toEqual([name]);
      expect(service.build).toEqual({ context: "..", dockerfile: "Dockerfile" });
      expect(
        existsSync(join(composeDir, service.build?.context ?? "", service.build?.dockerfile ?? "")),
      ).toBe(true);
      expect(service.deploy?.replicas, name).toBeGreaterThanOrEqual(2);
      expect(service.read_only, name).toBe(true);
    }
  });

  it("gives every container a configuration the platform accepts, with no variable it does not know", () => {
    for (const [name, service] of blossom) {
      const environment = { ...imageEnvironment, ...service.environment };
      const unknown = Object.keys(environment).filter(
        (variable) => !(variable in ConfigSchema.properties) && !/^OTEL_[A-Z_]+$/.test(variable),
      );
      expect(unknown, name).toEqual([]);
      expect(() => readConfig(environment), name).not.toThrow();
      expect(environment.OTEL_SERVICE_NAME).toBe(name);
    }
  });

  it("points every upstream URL, database and server at a compose service that exists", () => {
    const databases = [
      ...readFileSync(join(composeDir, "compose/postgres-init.sql"), "utf8").matchAll(
        /CREATE DATABASE (\w+);/g,
      ),
    ].map((match) => match[1]);
    const hostOf = (url: string) => new URL(url).hostname;
    for (const [name, service] of blossom) {
      const environment = service.environment ?? {};
      for (const upstream of RUNNABLE_NAMES.filter((runnable) => runnable !== "gateway")) {
        const location = parseServiceLocation(environment[`${upstream.toUpperCase()}_URL`] ?? "");
        // Docker's DNS answers one address per replica; every container listens on the image's PORT.
        expect(location, `${name}: ${upstream}`).toEqual({
          kind: "dns",
          url: `http://${upstream}:${imageEnvironment.PORT}`,
        });
      }
      for (const variable of ["NATS_URL", "REDIS_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"])
        if (environment[variable])
          expect(Object.keys(services), variable).toContain(hostOf(environment[variable]));
      if (name === "gateway") continue;
      const database = new URL(environment.DATABASE_URL ?? "");
      expect(Object.keys(services)).toContain(database.hostname);
      expect(databases).toContain(database.pathname.slice(1));
      expect(database.pathname).toBe(`/blossom_${name}`);
    }
  });

  it("publishes the gateway on its container port, one host port per replica", () => {
    const gateway = services.gateway;
    const [mapping] = gateway?.ports ?? [];
    const [hostPorts = "", containerPort] = (mapping ?? "").split(/:(?=[^:]+$)/);
    expect(containerPort).toBe(imageEnvironment.PORT);
    const [first, last = first] = hostPorts.split("-").map(Number);
    expect((last ?? 0) - (first ?? 0) + 1).toBe(gateway?.deploy?.replicas);
  });

  it("starts after what it depends on, and mounts only files of the repository", () => {
    for (const [name, service] of Object.entries(services)) {
      const dependencies = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const dependency of dependencies) expect(Object.keys(services), name).toContain(dependency);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0] ?? "";
        if (source.startsWith("."))
          expect(existsSync(join(composeDir, source)), `${name}: ${source}`).toBe(true);
      }
    }
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(["postgres", "nats", "redis", "prometheus", "grafana", "jaeger"]),
    );
    expect(services.nats?.command).toContain("--jetstream");
  });

  it("has Prometheus scrape every replica of every Blossom service on its port", () => {
    const prometheus = parse(readFileSync(join(composeDir, "compose/prometheus.yml"), "utf8")) as {
      scrape_configs: {
        job_name: string;
        metrics_path: string;
        dns_sd_configs: { names: string[]; port: number }[];
      }[];
    };
    const [job] = prometheus.scrape_configs;
    expect(job?.job_name).toBe("blossom");
    expect(job?.metrics_path).toBe("/metrics");
    expect(job?.dns_sd_configs.flatMap((config) => config.names).sort()).toEqual([...RUNNABLE_NAMES].sort());
    // The gateway serves /metrics on its internal listener, a service on its own port.
    for (const config of job?.dns_sd_configs ?? [])
      expect(String(config.port)).toBe(
        config.names.includes(GATEWAY) ? String(GATEWAY_DEFAULT_METRICS_PORT) : imageEnvironment.PORT,
      );
  });
});
