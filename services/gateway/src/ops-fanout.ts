import type { ServiceClients } from "@blossom/host";
import { propagationHeaders } from "@blossom/runtime";
import { request } from "undici";
import { UPSTREAM_SERVICES } from "./routing-table.js";

/** How long the gateway waits for one instance's answer before it reports it unavailable. */
const INSTANCE_TIMEOUT_MS = 2_000;

export interface InstanceAnswer<T> {
  service: string;
  instance: string;
  body: T;
}

export interface FanOutResult<T> {
  answers: InstanceAnswer<T>[];
  /** `<service> <instance URL>` of each instance that did not answer 200 in time. */
  unavailable: string[];
}

/**
 * Calls `path` once on every instance of every upstream service (or of `only`), as discovery
 * lists them now, in parallel, with the caller's `authorization` (the instances check it
 * themselves), each call bounded by a short timeout and never retried: an instance that fails is
 * named in `unavailable`, the others' answers still count. Not through the services' balanced
 * clients — the point is every instance, not any one — so their breakers are neither used nor fed.
 */
export async function callEveryInstance<T>(
  clients: ServiceClients,
  path: string,
  query: Record<string, string | number | undefined>,
  authorization: string | undefined,
  only?: string,
): Promise<FanOutResult<T>> {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, String(value));
  const suffix = search.size ? `${path}?${search}` : path;
  const headers: Record<string, string> = { ...propagationHeaders(), accept: "application/json" };
  if (authorization) headers.authorization = authorization;
  else delete headers.authorization;
  const targets = UPSTREAM_SERVICES.filter((service) => only === undefined || service === only).flatMap(
    (service) =>
      clients
        .get(service)
        .stats()
        .instances.map((stats) => ({ service, instance: stats.instance })),
  );
  const results = await Promise.all(
    targets.map(async ({ service, instance }) => {
      try {
        const answer = await request(`${instance.replace(/\/$/, "")}${suffix}`, {
          headers,
          signal: AbortSignal.timeout(INSTANCE_TIMEOUT_MS),
        });
        if (answer.statusCode !== 200) {
          await answer.body.dump();
          return `${service} ${instance}`;
        }
        return { service, instance, body: (await answer.body.json()) as T };
      } catch {
        return `${service} ${instance}`;
      }
    }),
  );
  return {
    answers: results.filter((result): result is InstanceAnswer<T> => typeof result !== "string"),
    unavailable: results.filter((result): result is string => typeof result === "string"),
  };
}
