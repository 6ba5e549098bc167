/** A node's health as the console draws and says it. */
export type Health = "ready" | "not-ready" | "down" | "unknown";

/**
 * A service's health from the gateway's readiness probe of it (`/health/ready`, per service) and
 * how many of its instances answered the latest metrics read: down when the probe failed and no
 * instance answered (discovery lists none — stopped, crashed, deregistered, or forgotten once its
 * record expired — or every one it lists is hung), not ready when the probe failed but an
 * instance still answers (its database or the bus is out), unknown before the first reading.
 */
export function serviceHealth(probe: "ready" | "not-ready" | undefined, answering: number): Health {
  if (probe === undefined) return "unknown";
  if (probe === "ready") return "ready";
  return answering === 0 ? "down" : "not-ready";
}

/**
 * Per service, its instances that answered one metrics read (one series each), every service of
 * `services` included: a service none of whose instances answered counts 0, not missing.
 */
export function answeringInstances(
  series: ReadonlyArray<{ service: string }>,
  services: readonly string[],
): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(services.map((service) => [service, 0]));
  for (const one of series) counts[one.service] = (counts[one.service] ?? 0) + 1;
  return counts;
}
