export { ConfigError, loadConfig, PortSchema, splitList } from "./config.js";
export { armCrashPoints, crashPoint } from "./crash-points.js";
export { installErrorHandling, sendProblem, toProblem } from "./error-handler.js";
export { type FaultInjection, injectsFaults } from "./fault-injection.js";
export { type DependencyState, type HealthCheck, HealthRegistry, type ReadinessReport } from "./health.js";
export {
  DEFAULT_LOG_RING_BYTES,
  DEFAULT_LOG_RING_LINES,
  LOG_LEVELS,
  type LogLine,
  type LogQuery,
  LogRing,
  type LogRingOptions,
  MAX_LOG_LINE_CHARS,
} from "./log-ring.js";
export {
  createLogger,
  defaultInstanceId,
  type Logger,
  type LoggerSettings,
  REDACTED_PATHS,
  redactSecrets,
} from "./logger.js";
export { type MetricsServer, serveMetrics } from "./metrics-server.js";
export {
  ID_RESPONSE_HEADERS,
  noContentResponse,
  OPENAPI_PATH,
  ProblemSchema,
  problemResponse,
  problemStatuses,
  type ResponseHeader,
  withHeadersOnEveryResponse,
  withProblemResponses,
  withResponseHeaders,
} from "./openapi.js";
export { preferredWaitSeconds } from "./prefer-wait.js";
export {
  HttpProblem,
  isHttpProblem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  type ProblemKind,
  ProblemTypes,
  problemType,
  SHED_OPERATION_HEADER,
} from "./problem.js";
export {
  currentContext,
  propagationHeaders,
  type RequestContext,
  runWithContext,
  safeIdHeader,
} from "./request-context.js";
export {
  assertWithinBudget,
  deadlineExceeded,
  MAX_REQUEST_TIMEOUT_MS,
  parseRequestTimeout,
  REQUEST_TIMEOUT_HEADER,
  remainingBudgetMs,
} from "./request-deadline.js";
export { type App, createServer, type ServerOptions } from "./server.js";
export { exitOnSignals, runShutdown, type ShutdownStep } from "./shutdown.js";
