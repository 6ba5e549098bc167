import { requireAdmin } from "@blossom/auth";
import type { ServiceClients } from "@blossom/host";
import {
  decodeLogCursor,
  encodeLogCursor,
  INSTANCE_LOGS_PATH,
  INSTANCE_METRICS_PATH,
  type InstanceLogs,
  LogsPage,
  LogsQuery,
  MetricsPage,
  MetricsQuery,
  type MetricsSeries,
  readInstanceLogs,
  readInstanceMetrics,
} from "@blossom/host/ops";
import type { App, LogRing } from "@blossom/runtime";
import type { MetricsHistory } from "@blossom/telemetry";
import type { Static } from "@sinclair/typebox";
import { callEveryInstance } from "./ops-fanout.js";
import { OPS_PREFIX } from "./ops-traces.js";

export interface OpsConsoleOptions {
  clients: ServiceClients;
  /** The gateway's own log ring; unset = none kept. */
  logs?: LogRing | undefined;
  /** The gateway's own metrics history. */
  metrics: MetricsHistory;
}

const GATEWAY = "gateway";

/**
 * The operations console's platform-wide reads, served by the gateway to admins:
 * `GET /api/ops/logs` (recent log lines) and `GET /api/ops/metrics` (the last 15 minutes of
 * metrics). The gateway answers with its own data plus every instance's of every service, which
 * it reads through discovery (`GET /internal/ops/…` on each, with the caller's token): the whole
 * platform on the embedded default and on a cluster alike. An instance that does not answer is
 * named in `unavailable`; the rest is still served.
 */
export function registerOpsConsoleRoutes(app: App, options: OpsConsoleOptions): void {
  app.get(
    `${OPS_PREFIX}/logs`,
    {
      config: { auth: "admin" },
      // A live tail polls every few seconds: its own access lines would flood what it reads.
      logLevel: "warn",
      schema: { tags: ["ops"], querystring: LogsQuery, response: { 200: LogsPage } },
    },
    async (request): Promise<Static<typeof LogsPage>> => {
      requireAdmin(request);
      const query = request.query;
      const upstream = query.service === GATEWAY ? undefined : query.service;
      const { answers, unavailable } =
        query.service === GATEWAY
          ? { answers: [], unavailable: [] }
          : await callEveryInstance<Static<typeof InstanceLogs>>(
              options.clients,
              INSTANCE_LOGS_PATH,
              query,
              request.headers.authorization,
              upstream,
            );
      const parts = answers.map((answer) => answer.body);
      if (options.logs && (query.service === undefined || query.service === GATEWAY))
        parts.push(readInstanceLogs(options.logs, query));
      // The previous cursor's positions stay for instances that did not answer this time.
      const cursor = { ...decodeLogCursor(query.after) };
      for (const part of parts) cursor[part.source] = part.lastSeq;
      const items = parts
        .flatMap((part) => part.items)
        .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
        .slice(-query.limit);
      return { items, cursor: encodeLogCursor(cursor), unavailable };
    },
  );

  app.get(
    `${OPS_PREFIX}/metrics`,
    {
      config: { auth: "admin" },
      logLevel: "warn",
      schema: { tags: ["ops"], querystring: MetricsQuery, response: { 200: MetricsPage } },
    },
    async (request): Promise<Static<typeof MetricsPage>> => {
      requireAdmin(request);
      const { service, since } = request.query;
      const { answers, unavailable } =
        service === GATEWAY
          ? { answers: [], unavailable: [] }
          : await callEveryInstance<Static<typeof MetricsSeries>>(
              options.clients,
              INSTANCE_METRICS_PATH,
              { since },
              request.headers.authorization,
              service,
            );
      const series = answers.map((answer) => ({ ...answer.body, instance: answer.instance }));
      if (service === undefined || service === GATEWAY)
        series.unshift(readInstanceMetrics(GATEWAY, options.metrics, since));
      return { series, unavailable };
    },
  );
}
