// The operations API's pieces the gateway needs (instance logs and metrics, their schemas and
// cursors), importable without the rest of the host (stores, bus, service hosts): the gateway's
// thread of `npm start` loads only what the gateway runs.
export {
  INSTANCE_LOGS_PATH,
  INSTANCE_METRICS_PATH,
  type InstanceOps,
  readInstanceLogs,
  readInstanceMetrics,
  registerInstanceOpsRoutes,
} from "./instance-ops.js";
export { decodeLogCursor, encodeLogCursor, type LogCursor } from "./log-cursor.js";
export {
  InstanceLogs,
  InstanceMetricsQuery,
  LogLineSchema,
  LogsPage,
  LogsQuery,
  MetricsPage,
  MetricsPointSchema,
  MetricsQuery,
  MetricsSeries,
} from "./ops-schemas.js";
