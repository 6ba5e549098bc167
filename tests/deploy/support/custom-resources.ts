import { type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { KubeObject } from "./manifests.js";

/*
 * kubernetes-models knows the core API only. The custom resources Blossom's manifests use
 * (Prometheus operator, CloudNativePG, External Secrets) are checked here against the fields
 * we use, as their CRDs define them, with no other field allowed: a misspelt field fails
 * instead of being silently ignored by the operator.
 */
const strict = { additionalProperties: false } as const;
const Labels = Type.Record(Type.String(), Type.String());
const Duration = Type.String({ pattern: "^[0-9]+(ms|s|m|h)$" });
const Quantity = Type.String({ pattern: "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$" });
const Metadata = Type.Object(
  {
    name: Type.String({ pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63 }),
    namespace: Type.Optional(Type.String()),
    labels: Type.Optional(Labels),
    annotations: Type.Optional(Labels),
  },
  strict,
);
const resource = (apiVersion: string, kind: string, spec: TSchema) =>
  Type.Object(
    { apiVersion: Type.Literal(apiVersion), kind: Type.Literal(kind), metadata: Metadata, spec },
    strict,
  );

/** monitoring.coreos.com/v1 ServiceMonitor (prometheus-operator). */
const ServiceMonitor = resource(
  "monitoring.coreos.com/v1",
  "ServiceMonitor",
  Type.Object(
    {
      jobLabel: Type.Optional(Type.String()),
      selector: Type.Object({ matchLabels: Labels }, strict),
      endpoints: Type.Array(
        Type.Object(
          {
            port: Type.String(),
            path: Type.String({ pattern: "^/" }),
            interval: Type.Optional(Duration),
            honorLabels: Type.Optional(Type.Boolean()),
          },
          strict,
        ),
        { minItems: 1 },
      ),
    },
    strict,
  ),
);

/** postgresql.cnpg.io/v1 Cluster (CloudNativePG). */
const PostgresCluster = resource(
  "postgresql.cnpg.io/v1",
  "Cluster",
  Type.Object(
    {
      instances: Type.Integer({ minimum: 1 }),
      storage: Type.Object({ size: Quantity }, strict),
      bootstrap: Type.Object(
        { initdb: Type.Object({ database: Type.String(), owner: Type.String() }, strict) },
        strict,
      ),
    },
    strict,
  ),
);

/** external-secrets.io/v1beta1 ExternalSecret (External Secrets Operator). */
const ExternalSecret = resource(
  "external-secrets.io/v1beta1",
  "ExternalSecret",
  Type.Object(
    {
      refreshInterval: Duration,
      secretStoreRef: Type.Object(
        {
          kind: Type.Union([Type.Literal("SecretStore"), Type.Literal("ClusterSecretStore")]),
          name: Type.String(),
        },
        strict,
      ),
      target: Type.Object(
        {
          name: Type.String(),
          creationPolicy: Type.Union([Type.Literal("Owner"), Type.Literal("Orphan"), Type.Literal("Merge")]),
        },
        strict,
      ),
      data: Type.Array(
        Type.Object(
          { secretKey: Type.String(), remoteRef: Type.Object({ key: Type.String() }, strict) },
          strict,
        ),
        { minItems: 1 },
      ),
    },
    strict,
  ),
);

export const CUSTOM_RESOURCE_SCHEMAS: Record<string, TSchema> = {
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "postgresql.cnpg.io/v1/Cluster": PostgresCluster,
  "external-secrets.io/v1beta1/ExternalSecret": ExternalSecret,
};

export function customResourceProblems(object: KubeObject): string[] {
  const schema = CUSTOM_RESOURCE_SCHEMAS[`${object.apiVersion}/${object.kind}`];
  if (!schema) return [`no schema for ${object.apiVersion}/${object.kind}`];
  return [...Value.Errors(schema, object)].map((error) => `${error.path}: ${error.message}`);
}

/** The rendered custom resources, typed by the schemas above (after they passed). */
export interface ServiceMonitorObject extends KubeObject {
  spec: {
    jobLabel?: string;
    selector: { matchLabels: Record<string, string> };
    endpoints: { port: string; path: string; honorLabels?: boolean }[];
  };
}
export interface PostgresClusterObject extends KubeObject {
  spec: { instances: number; bootstrap: { initdb: { database: string; owner: string } } };
}
export interface ExternalSecretObject extends KubeObject {
  spec: { target: { name: string }; data: { secretKey: string }[] };
}
