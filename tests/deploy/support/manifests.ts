import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";
import { CUSTOM_RESOURCE_SCHEMAS, customResourceProblems } from "./custom-resources.js";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const K8S_DIR = join(REPO_ROOT, "deploy/k8s");

/** One rendered Kubernetes object, before it is checked against its schema. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export const typeOf = (object: { apiVersion: string; kind: string }) => `${object.apiVersion}/${object.kind}`;

/**
 * Renders a Kustomize directory with `kubectl kustomize`, which works offline: it never
 * contacts a cluster. kubectl is the one tool these tests need besides Node.
 */
export function renderKustomize(dir: string): KubeObject[] {
  let text: string;
  try {
    text = execFileSync("kubectl", ["kustomize", dir], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === "ENOENT") {
      throw new Error(
        "kubectl is not installed: tests/deploy render deploy/k8s with `kubectl kustomize` (offline, no cluster). Install kubectl 1.27 or newer.",
      );
    }
    throw new Error(`kubectl kustomize ${dir} failed:\n${failure.stderr ?? failure.message}`);
  }
  return parseAllDocuments(text).map((document, index) => {
    if (document.errors.length > 0) throw new Error(`document ${index}: ${document.errors[0]?.message}`);
    return withUnfoldedSecretData(document.toJS() as KubeObject);
  });
}

/**
 * kubectl folds long base64 values over several lines; the API server's decoder skips the line
 * breaks, the "byte" format of the schema does not. Unfold them as the server reads them.
 */
function withUnfoldedSecretData(object: KubeObject): KubeObject {
  if (object.kind !== "Secret" || typeof object.data !== "object" || object.data === null) return object;
  const data = Object.fromEntries(
    Object.entries(object.data as Record<string, string>).map(([key, value]) => [
      key,
      value.replace(/\s+/g, ""),
    ]),
  );
  return { ...object, data };
}

// The validate() of kubernetes-models checks every field against the Kubernetes OpenAPI schema
// (types, required fields, enums); it does not reject unknown fields.
type CoreModel = new (data: never) => { validate(): void };
const CORE_MODELS: Record<string, CoreModel> = {
  [typeOf(Namespace)]: Namespace,
  [typeOf(ConfigMap)]: ConfigMap,
  [typeOf(Secret)]: Secret,
  [typeOf(Service)]: Service,
  [typeOf(ServiceAccount)]: ServiceAccount,
  [typeOf(Deployment)]: Deployment,
  [typeOf(HorizontalPodAutoscaler)]: HorizontalPodAutoscaler,
  [typeOf(PodDisruptionBudget)]: PodDisruptionBudget,
  [typeOf(NetworkPolicy)]: NetworkPolicy,
  [typeOf(Ingress)]: Ingress,
};

/** Schema problems of one object: core kinds by kubernetes-models, custom resources by our TypeBox schemas. */
export function schemaProblems(object: KubeObject): string[] {
  const model = CORE_MODELS[typeOf(object)];
  if (model) {
    try {
      new model(object as never).validate();
      return [];
    } catch (error) {
      return [(error as Error).message];
    }
  }
  if (CUSTOM_RESOURCE_SCHEMAS[typeOf(object)]) return customResourceProblems(object);
  return [`no schema for ${typeOf(object)}: add it to tests/deploy/support`];
}

/** The objects of one kind, typed as their kubernetes-models class (validated separately). */
export function ofKind<T>(
  objects: KubeObject[],
  model: { apiVersion: string; kind: string } & (new (data: never) => T),
): T[] {
  return objects
    .filter((object) => typeOf(object) === typeOf(model))
    .map((object) => new model(object as never));
}

export function byName<T extends { metadata?: { name?: string } }>(items: T[], name: string): T {
  const found = items.find((item) => item.metadata?.name === name);
  if (!found) throw new Error(`no object named ${name}`);
  return found;
}

/** Does a label selector (matchLabels only, as Blossom writes them) select these labels? */
export function selects(
  selector: { matchLabels?: Record<string, string> } | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  const wanted = Object.entries(selector?.matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => labels?.[key] === value);
}

/** Secret values for `secretKeyRef`s the render does not contain (the prod secret comes from the secret store). */
export type SecretValues = (secret: string, key: string) => string | undefined;

/**
 * The environment the container of a Deployment starts with: its ConfigMaps (envFrom), then its
 * own variables, with Secrets (rendered, or given) and label field references resolved.
 */
export function containerEnvironment(
  objects: KubeObject[],
  deployment: Deployment,
  external: SecretValues = () => undefined,
): Record<string, string> {
  const container = deployment.spec?.template.spec?.containers[0];
  const labels = deployment.spec?.template.metadata?.labels ?? {};
  const configMaps = ofKind(objects, ConfigMap);
  const secrets = ofKind(objects, Secret);
  const environment: Record<string, string> = {};
  for (const source of container?.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (!name) throw new Error("envFrom: only ConfigMaps are used");
    Object.assign(environment, byName(configMaps, name).data);
  }
  for (const variable of container?.env ?? []) {
    const from = variable.valueFrom;
    if (variable.value !== undefined) environment[variable.name] = variable.value;
    else if (from?.secretKeyRef) {
      const { name, key } = from.secretKeyRef;
      const rendered = secrets.find((secret) => secret.metadata?.name === name)?.data?.[key];
      const value =
        rendered === undefined ? external(name ?? "", key) : Buffer.from(rendered, "base64").toString();
      if (value === undefined) throw new Error(`${variable.name}: secret ${name} has no key ${key}`);
      environment[variable.name] = value;
    } else if (from?.fieldRef) {
      const label = /^metadata\.labels\['(.+)'\]$/.exec(from.fieldRef.fieldPath)?.[1];
      const value = label === undefined ? undefined : labels[label];
      if (value === undefined) throw new Error(`${variable.name}: unresolved ${from.fieldRef.fieldPath}`);
      environment[variable.name] = value;
    } else throw new Error(`${variable.name}: unsupported value source`);
  }
  return environment;
}
