/**
 * The service a span belongs to. In the embedded default every service shares one process and
 * so one OpenTelemetry resource (`service.name` = `blossom`): this attribute, set on server and
 * bus spans and inherited by their children, is what tells the services apart.
 */
export const ATTR_BLOSSOM_SERVICE = "blossom.service";

/** `messaging.system` for a bus kind: JetStream is `nats`; the in-process bus has no standard name. */
export function messagingSystemOf(busKind: string): string {
  return busKind === "nats" ? "nats" : "blossom-memory";
}
