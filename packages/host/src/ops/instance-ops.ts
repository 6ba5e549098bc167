import { requireAdmin } from "@blossom/auth";
import { type App, defaultInstanceId, HttpProblem, type LogRing } from "@blossom/runtime";
import type { MetricsHistory } from "@blossom/telemetry";
import type { Static } from "@sinclair/typebox";
import { decodeLogCursor } from "./log-cursor.js";
import { InstanceLogs, InstanceMetricsQuery, LogsQuery, MetricsSeries } from "./ops-schemas.js";

/** Where each instance serves its own logs and metrics to the gateway (never routed by it). */
export const INSTANCE_LOGS_PATH = "/internal/ops/logs";
export const INSTANCE_METRICS_PATH = "/internal/ops/metrics";

/** What one runnable of this process keeps for the operations console. */
export interface InstanceOps {
  service: string;
  /** Its logger's ring; unset = none kept. */
  logs?: LogRing | undefined;
  /** Its metrics' history; unset = none kept. */
  metrics?: MetricsHistory | undefined;
}

/** The ring's lines matching the query, after the cursor's position for this ring. */
export function readInstanceLogs(
  ring: LogRing,
  query: Static<typeof LogsQuery>,
): Static<typeof InstanceLogs> {
  const after = decodeLogCursor(query.after)[ring.id];
  const lastSeq = ring.lastSeq;
  const items = ring.query({
    service: query.service,
    level: query.level,
    traceId: query.traceId,
    orderId: query.orderId,
    since: query.since,
    after,
    limit: query.limit,
  });
  return { source: ring.id, lastSeq, items: items.map(({ seq: _seq, ...line }) => line) };
}

export function readInstanceMetrics(
  service: string,
  history: MetricsHistory,
  since: string | undefined,
): Static<typeof MetricsSeries> {
  return {
    service,
    instance: defaultInstanceId(),
    intervalSeconds: history.intervalMs / 1000,
    points: history.points(since),
  };
}

/**
 * `GET /internal/ops/logs` and `GET /internal/ops/metrics`: this instance's own recent log lines
 * and metrics, for the gateway's `GET /api/ops/logs` and `GET /api/ops/metrics`, which read every
 * instance through discovery. Admins only (the gateway passes the caller's token on); not in the
 * OpenAPI document, and the gateway routes nothing under `/internal`.
 */
export function registerInstanceOpsRoutes(app: App, ops: InstanceOps): void {
  app.get(
    INSTANCE_LOGS_PATH,
    {
      config: { auth: "admin" },
      logLevel: "warn",
      schema: { hide: true, querystring: LogsQuery, response: { 200: InstanceLogs } },
    },
    async (request) => {
      requireAdmin(request);
      if (!ops.logs) throw HttpProblem.of("unavailable", "this instance keeps no log lines");
      return readInstanceLogs(ops.logs, request.query);
    },
  );
  app.get(
    INSTANCE_METRICS_PATH,
    {
      config: { auth: "admin" },
      logLevel: "warn",
      schema: { hide: true, querystring: InstanceMetricsQuery, response: { 200: MetricsSeries } },
    },
    async (request) => {
      requireAdmin(request);
      if (!ops.metrics) throw HttpProblem.of("unavailable", "this instance keeps no metrics history");
      return readInstanceMetrics(ops.service, ops.metrics, request.query.since);
    },
  );
}
