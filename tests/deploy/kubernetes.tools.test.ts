import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseServiceLocation } from "@blossom/client";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigSchema, readConfig } from "../../apps/blossom/src/config.js";
import {
  GATEWAY,
  GATEWAY_DEFAULT_METRICS_PORT,
  GATEWAY_DEFAULT_PORT,
  RUNNABLE_NAMES,
  SERVICES,
} from "../../apps/blossom/src/topology.js";
import { UPSTREAM_SERVICES } from "../../services/gateway/src/routing-table.js";
import type {
  ExternalSecretObject,
  PostgresClusterObject,
  ServiceMonitorObject,
} from "./support/custom-resources.js";
import {
  byName,
  containerEnvironment,
  K8S_DIR,
  type KubeObject,
  ofKind,
  REPO_ROOT,
  renderKustomize,
  type SecretValues,
  schemaProblems,
  selects,
} from "./support/manifests.js";

const OVERLAYS = ["dev", "prod"] as const;
const rendered = Object.fromEntries(
  OVERLAYS.map((overlay) => [overlay, renderKustomize(join(K8S_DIR, "overlays", overlay))]),
) as Record<(typeof OVERLAYS)[number], KubeObject[]>;

const IMAGE_REPOSITORY = { dev: "blossom", prod: "ghcr.io/blossom-commerce/blossom" };
const NAME_LABEL = "app.kubernetes.io/name";
const customResources = <T extends KubeObject>(objects: KubeObject[], kind: string) =>
  objects.filter((object) => object.kind === kind) as T[];

/** The services that consume events: their autoscaler also follows their consumer's backlog. */
const CONSUMERS = SERVICES.filter(({ definition }) => definition.consumes).map(
  ({ definition }) => definition.name,
);

/**
 * Who calls whom over HTTP (README's architecture): the gateway every service it routes to,
 * orders inventory (prices at order time, services/orders/src/api/inventory-prices.ts), and
 * every process users (the JWKS its token verifier fetches and the service tokens its clients
 * carry, apps/blossom/src/commands/start.ts). Nothing else.
 */
const EXPECTED_CALLS = new Set([
  ...UPSTREAM_SERVICES.map((service) => `${GATEWAY}->${service}`),
  "orders->inventory",
  ...RUNNABLE_NAMES.map((service) => `${service}->users`),
]);

/**
 * The external metric the consumers' HPAs scale on: served by prometheus-adapter from a series
 * the services export themselves (packages/telemetry), labelled by service.
 */
const adapterRules = parse(readFileSync(join(K8S_DIR, "prometheus-adapter-values.yaml"), "utf8")) as {
  rules: { external: { seriesQuery: string; name: { as: string }; metricsQuery: string }[] };
};
const BACKLOG_METRIC = "blossom_consumer_lag";

/** Secrets the prod overlay leaves to the secret store (ExternalSecret) and to CloudNativePG (`<cluster>-app`). */
function productionSecrets(objects: KubeObject[]): SecretValues {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const store: Record<string, string> = {
    BLOSSOM_SERVICE_SECRET: randomBytes(32).toString("base64url"),
    USERS_SIGNING_KEY: JSON.stringify({ kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d }),
    PAYMENTS_CARD_FINGERPRINT_KEY: randomBytes(32).toString("base64url"),
  };
  const external = customResources<ExternalSecretObject>(objects, "ExternalSecret");
  const clusters = customResources<PostgresClusterObject>(objects, "Cluster");
  return (secret, key) => {
    const fromStore = external.find((item) => item.spec.target.name === secret);
    if (fromStore) return fromStore.spec.data.some((item) => item.secretKey === key) ? store[key] : undefined;
    return cnpgAppSecret(clusters, secret, key);
  };
}

/** What CloudNativePG puts in the `<cluster>-app` secret of a Cluster in the render. */
function cnpgAppSecret(clusters: PostgresClusterObject[], secret: string, key: string): string | undefined {
  const cluster = clusters.find((item) => `${item.metadata.name}-app` === secret);
  if (!cluster || key !== "uri") return undefined;
  const { database, owner } = cluster.spec.bootstrap.initdb;
  return `postgresql://${owner}:generated@${cluster.metadata.name}-rw.blossom:5432/${database}`;
}

function secretsOf(overlay: (typeof OVERLAYS)[number]): SecretValues {
  const objects = rendered[overlay];
  if (overlay === "prod") return productionSecrets(objects);
  const clusters = customResources<PostgresClusterObject>(objects, "Cluster");
  return (secret, key) => cnpgAppSecret(clusters, secret, key);
}

/** The port a single-service process listens on (start.ts portOf): <SERVICE>_PORT, else PORT, else its default. */
function listenPort(service: string, environment: Record<string, string>): number {
  const own = environment[`${service.toUpperCase()}_PORT`] ?? environment.PORT;
  if (own !== undefined) return Number(own);
  return service === GATEWAY
    ? GATEWAY_DEFAULT_PORT
    : (SERVICES.find(({ definition }) => definition.name === service)?.defaultPort ?? Number.NaN);
}

/** Where a process serves /metrics: the gateway on its internal listener, a service on its port. */
function metricsPort(service: string, environment: Record<string, string>): number {
  if (service !== GATEWAY) return listenPort(service, environment);
  return Number(environment.GATEWAY_METRICS_PORT ?? GATEWAY_DEFAULT_METRICS_PORT);
}

describe.each(OVERLAYS)("deploy/k8s overlays/%s", (overlay) => {
  const objects = rendered[overlay];
  const deployments = ofKind(objects, Deployment);

  it("renders only objects that pass their schema, all in the blossom namespace", () => {
    const problems = objects.flatMap((object) =>
      schemaProblems(object).map((problem) => `${object.kind}/${object.metadata.name}: ${problem}`),
    );
    expect(problems).toEqual([]);
    const outside = objects.filter(
      (object) => object.kind !== "Namespace" && object.metadata.namespace !== "blossom",
    );
    expect(outside.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([]);
  });

  it("runs one Deployment per service, all from one image repository", () => {
    expect(deployments.map((deployment) => deployment.metadata?.name).sort()).toEqual(
      [...RUNNABLE_NAMES].sort(),
    );
    const images = new Set(
      deployments.flatMap((d) => d.spec?.template.spec?.containers.map((c) => c.image) ?? []),
    );
    expect(images.size).toBe(1);
    expect([...images][0]?.split(":")[0]).toBe(IMAGE_REPOSITORY[overlay]);
  });

  describe.each(RUNNABLE_NAMES)("%s", (service) => {
    const deployment = byName(deployments, service);
    const pod = deployment.spec?.template;
    const podLabels = pod?.metadata?.labels ?? {};
    const container = pod?.spec?.containers[0];
    const environment = containerEnvironment(objects, deployment, secretsOf(overlay));
    const port = listenPort(service, environment);
    const namedPort = (value: number | string | undefined) =>
      typeof value === "string"
        ? container?.ports?.find((item) => item.name === value)?.containerPort
        : value;

    it("runs `blossom start <service>` and exposes the port the process listens on", () => {
      expect(pod?.spec?.containers).toHaveLength(1);
      expect(container?.args).toEqual([service]);
      expect(container?.command).toBeUndefined(); // the image's ENTRYPOINT: node apps/blossom/bin/blossom.js start
      // The gateway's /metrics has a port of its own, never the public one.
      const exposed = service === GATEWAY ? [port, metricsPort(service, environment)] : [port];
      expect(container?.ports?.map((item) => item.containerPort).sort()).toEqual(exposed.sort());
      expect(selects(deployment.spec?.selector, podLabels)).toBe(true);
    });

    it("has a startup, a readiness and a liveness probe on the health endpoints of that port", () => {
      expect(container?.startupProbe?.httpGet?.path).toBe("/health/live");
      // The gateway's plain /health/ready is the whole platform's; its pods ask about themselves.
      expect(container?.readinessProbe?.httpGet?.path).toBe(
        service === "gateway" ? "/health/ready?scope=gateway" : "/health/ready",
      );

      expect(container?.livenessProbe?.httpGet?.path).toBe("/health/live");
      for (const probe of [container?.startupProbe, container?.readinessProbe, container?.livenessProbe])
        expect(namedPort(probe?.httpGet?.port)).toBe(port);
    });

    it("has requests and limits, and runs non-root on a read-only root file system with no capability", () => {
      const { requests, limits } = container?.resources ?? {};
      for (const resource of ["cpu", "memory"]) {
        expect(requests?.[resource], `requests.${resource}`).toBeDefined();
        expect(limits?.[resource], `limits.${resource}`).toBeDefined();
      }
      expect(pod?.spec?.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(container?.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      // The only writable directory: an emptyDir at /tmp (the services keep their data in PostgreSQL).
      const tmp = container?.volumeMounts?.find((mount) => mount.mountPath === "/tmp");
      expect(pod?.spec?.volumes?.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
      expect(container?.volumeMounts).toHaveLength(1);
      expect(pod?.spec?.automountServiceAccountToken).toBe(false);
    });

    it("rolls out without unavailability and stops within its grace period", () => {
      expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
      const preStop = container?.lifecycle?.preStop?.exec?.command ?? [];
      expect(preStop[0]).toBe("sleep");
      const preStopSeconds = Number(preStop[1]);
      // The endpoint removal must reach callers that look their upstreams up by DNS.
      expect(preStopSeconds * 1000).toBeGreaterThan(Number(environment.BLOSSOM_DNS_REFRESH_MS));
      const config = readConfig(environment);
      expect(config.SHUTDOWN_DRAIN_DELAY_MS).toBeGreaterThan(0);
      expect(config.SHUTDOWN_DRAIN_DELAY_MS).toBeLessThan(config.SHUTDOWN_TIMEOUT_MS);
      expect(pod?.spec?.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(
        preStopSeconds + config.SHUTDOWN_TIMEOUT_MS / 1000,
      );
    });

    it("gets a configuration the platform accepts, with no variable it does not know", () => {
      const unknown = Object.keys(environment).filter(
        (name) => !(name in ConfigSchema.properties) && !/^OTEL_[A-Z_]+$/.test(name),
      );
      expect(unknown).toEqual([]);
      const config = readConfig(environment);
      expect(config.HOST).toBe("0.0.0.0");
      expect(config.NODE_ENV).toBe(overlay === "prod" ? "production" : "development");
      expect(environment.OTEL_SERVICE_NAME).toBe(service);
      if (service !== GATEWAY) expect(config.DATABASE_URL).toMatch(/^postgres(ql)?:\/\//);
      if (service === GATEWAY && overlay === "prod") expect(config.REDIS_URL).toMatch(/^redis:\/\//);
    });

    it("is reached through a Service on that port, which the upstream URLs and a ServiceMonitor name", () => {
      const own = byName(ofKind(objects, Service), service);
      expect(own.spec?.selector).toEqual({ [NAME_LABEL]: service });
      expect(Object.entries(own.spec?.selector ?? {}).every(([key, value]) => podLabels[key] === value)).toBe(
        true,
      );
      const servicePort = own.spec?.ports?.[0];
      expect(namedPort(servicePort?.targetPort)).toBe(port);
      if (service !== GATEWAY) {
        // <SERVICE>_URL=dns+http://<service>:<port>: one instance per ready pod, hence headless.
        const location = parseServiceLocation(environment[`${service.toUpperCase()}_URL`] ?? "");
        expect(location).toEqual({ kind: "dns", url: `http://${service}:${servicePort?.port}` });
        expect(own.spec?.clusterIP).toBe("None");
      }
      const monitor = byName(customResources<ServiceMonitorObject>(objects, "ServiceMonitor"), service);
      expect(selects(monitor.spec.selector, own.metadata?.labels)).toBe(true);
      const scraped = own.spec?.ports?.find((item) => item.name === monitor.spec.endpoints[0]?.port);
      expect(namedPort(scraped?.targetPort)).toBe(metricsPort(service, environment));
      expect(monitor.spec.endpoints).toEqual([
        expect.objectContaining({ port: scraped?.name, path: "/metrics", honorLabels: true }),
      ]);
      // deploy/observability's alerts select job=~"blossom.*": the job is the Service's part-of label.
      expect(own.metadata?.labels?.[monitor.spec.jobLabel ?? ""]).toBe("blossom");
    });

    it("has its own ServiceAccount, an autoscaler and a disruption budget", () => {
      expect(pod?.spec?.serviceAccountName).toBe(service);
      byName(ofKind(objects, ServiceAccount), service);
      const hpa = byName(ofKind(objects, HorizontalPodAutoscaler), service);
      expect(hpa.spec?.scaleTargetRef).toMatchObject({
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: service,
      });
      const resources = hpa.spec?.metrics?.filter((metric) => metric.type === "Resource");
      expect(resources?.map((metric) => metric.resource?.name).sort()).toEqual(["cpu", "memory"]);
      const external = hpa.spec?.metrics?.filter((metric) => metric.type === "External") ?? [];
      if (CONSUMERS.includes(service)) {
        expect(external.map((metric) => metric.external?.metric)).toEqual([
          { name: BACKLOG_METRIC, selector: { matchLabels: { service } } },
        ]);
      } else expect(external).toEqual([]);
      const budgets = ofKind(objects, PodDisruptionBudget).filter((pdb) =>
        selects(pdb.spec?.selector, podLabels),
      );
      expect(budgets.map((pdb) => pdb.metadata?.name)).toEqual([service]);
    });

    it("is isolated by a NetworkPolicy of its own, under the default deny", () => {
      const policies = ofKind(objects, NetworkPolicy).filter((policy) =>
        selects(policy.spec?.podSelector, podLabels),
      );
      expect(policies.map((policy) => policy.metadata?.name).sort()).toEqual(
        ["blossom-common-egress", "default-deny", service].sort(),
      );
      const deny = byName(policies, "default-deny");
      expect(deny.spec?.policyTypes).toEqual(["Ingress", "Egress"]);
      expect(deny.spec?.ingress ?? []).toEqual([]);
      expect(deny.spec?.egress ?? []).toEqual([]);
      // Prometheus may scrape it.
      const ingress = byName(policies, service).spec?.ingress ?? [];
      expect(
        ingress.some((rule) =>
          rule.from?.some(
            (peer) => peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "monitoring",
          ),
        ),
      ).toBe(true);
    });
  });

  it("allows exactly the HTTP calls the architecture makes between Blossom's pods", () => {
    const policies = ofKind(objects, NetworkPolicy);
    const peers = (rules: { from?: unknown; to?: unknown }[] | undefined, side: "from" | "to") =>
      (rules ?? []).flatMap((rule) =>
        (
          (rule[side] ?? []) as {
            podSelector?: { matchLabels?: Record<string, string> };
            namespaceSelector?: unknown;
          }[]
        )
          .filter((peer) => peer.namespaceSelector === undefined)
          .map((peer) => peer.podSelector?.matchLabels?.[NAME_LABEL])
          .filter((name): name is string => RUNNABLE_NAMES.includes(name ?? "")),
      );
    const allowed = new Set<string>();
    for (const caller of RUNNABLE_NAMES) {
      const callerLabels = byName(deployments, caller).spec?.template.metadata?.labels;
      const egress = policies.filter((policy) => selects(policy.spec?.podSelector, callerLabels));
      for (const callee of new Set(egress.flatMap((policy) => peers(policy.spec?.egress, "to")))) {
        const calleeLabels = byName(deployments, callee).spec?.template.metadata?.labels;
        const ingress = policies.filter((policy) => selects(policy.spec?.podSelector, calleeLabels));
        if (ingress.some((policy) => peers(policy.spec?.ingress, "from").includes(caller)))
          allowed.add(`${caller}->${callee}`);
      }
    }
    expect([...allowed].sort()).toEqual([...EXPECTED_CALLS].sort());
  });

  it("opens the gateway, and only the gateway, to the ingress controller", () => {
    const [ingress, ...others] = ofKind(objects, Ingress);
    expect(others).toEqual([]);
    const backends = ingress?.spec?.rules?.flatMap((rule) =>
      rule.http?.paths.map((path) => path.backend.service),
    );
    expect(backends).toEqual([{ name: GATEWAY, port: { name: "http" } }]);
    const fromController = ofKind(objects, NetworkPolicy).filter((policy) =>
      (policy.spec?.ingress ?? []).some((rule) =>
        rule.from?.some(
          (peer) => peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "ingress-nginx",
        ),
      ),
    );
    expect(fromController.map((policy) => policy.metadata?.name)).toEqual([GATEWAY]);
  });

  it("gives every service a database of its own", () => {
    const clusters = customResources<PostgresClusterObject>(objects, "Cluster");
    const used = deployments.flatMap(
      (deployment) =>
        deployment.spec?.template.spec?.containers[0]?.env
          ?.filter((variable) => variable.name === "DATABASE_URL")
          .map((variable) => variable.valueFrom?.secretKeyRef?.name) ?? [],
    );
    expect(used.sort()).toEqual(clusters.map((cluster) => `${cluster.metadata.name}-app`).sort());
    expect(new Set(clusters.map((cluster) => cluster.spec.bootstrap.initdb.database)).size).toBe(
      clusters.length,
    );
  });
});

describe("deploy/k8s prometheus-adapter-values.yaml", () => {
  it("serves the backlog metric the HPAs use, from a series the services export", () => {
    const [rule, ...others] = adapterRules.rules.external;
    expect(others).toEqual([]);
    expect(rule?.name.as).toBe(BACKLOG_METRIC);
    const series = /^(\w+)\{/.exec(rule?.seriesQuery ?? "")?.[1] ?? "";
    expect(rule?.metricsQuery).toContain(`${series}{<<.LabelMatchers>>}`);
    expect(rule?.metricsQuery).toMatch(/by \(service\)/);
    const exported = readFileSync(
      join(REPO_ROOT, "packages/telemetry/src/metrics/service-metrics.ts"),
      "utf8",
    );
    expect(exported).toContain(`"${series}"`);
  });
});

describe("deploy/k8s overlays/prod", () => {
  const objects = rendered.prod;

  it("pins the image to a release, and keeps two pods of every service through disruptions", () => {
    const images = ofKind(objects, Deployment).map((d) => d.spec?.template.spec?.containers[0]?.image ?? "");
    for (const image of images) expect(image).toMatch(/(:\d+\.\d+\.\d+|@sha256:[0-9a-f]{64})$/);
    for (const hpa of ofKind(objects, HorizontalPodAutoscaler))
      expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(2);
    for (const deployment of ofKind(objects, Deployment))
      expect(deployment.spec?.replicas ?? 2, "replicas are the HPA's").toBeGreaterThanOrEqual(2);
    for (const pdb of ofKind(objects, PodDisruptionBudget)) expect(pdb.spec?.minAvailable).toBe(1);
    for (const cluster of customResources<PostgresClusterObject>(objects, "Cluster"))
      expect(cluster.spec.instances).toBeGreaterThanOrEqual(3);
  });

  it("commits no secret: blossom-secrets comes from the secret store, with every key the pods read", () => {
    expect(ofKind(objects, Secret)).toEqual([]);
    const [external] = customResources<ExternalSecretObject>(objects, "ExternalSecret");
    const provided = external?.spec.data.map((item) => item.secretKey).sort();
    const read = new Set(
      ofKind(objects, Deployment).flatMap(
        (deployment) =>
          deployment.spec?.template.spec?.containers[0]?.env
            ?.map((variable) => variable.valueFrom?.secretKeyRef)
            .filter((ref) => ref?.name === external?.spec.target.name)
            .map((ref) => ref?.key ?? "") ?? [],
      ),
    );
    expect(provided).toEqual([...read].sort());
    // None of the development values leak into the production render.
    const development = ofKind(rendered.dev, Secret).flatMap((secret) =>
      Object.values(secret.data ?? {}).map((value) => Buffer.from(value, "base64").toString()),
    );
    expect(development.length).toBeGreaterThan(0);
    const text = JSON.stringify(objects);
    for (const value of development) expect(text).not.toContain(value);
  });
});

describe("deploy/k8s overlays/dev", () => {
  it("runs one pod per service from the locally built image, with the development secrets generated", () => {
    const objects = rendered.dev;
    for (const hpa of ofKind(objects, HorizontalPodAutoscaler)) expect(hpa.spec?.minReplicas).toBe(1);
    const [secret, ...others] = ofKind(objects, Secret);
    expect(others).toEqual([]);
    expect(secret?.metadata?.name).toMatch(/^blossom-secrets-/);
    expect(Object.keys(secret?.data ?? {}).sort()).toEqual([
      "BLOSSOM_SERVICE_SECRET",
      "PAYMENTS_CARD_FINGERPRINT_KEY",
      "USERS_SIGNING_KEY",
    ]);
    const [config] = ofKind(objects, ConfigMap);
    expect(config?.data?.REDIS_URL).toBeUndefined();
  });
});
