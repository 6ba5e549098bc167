export { type AuditEntry, auditLogMigration, recordAudit, registerAuditRoute } from "./audit/audit-log.js";
export { CallerClients, type UpstreamClient } from "./caller-clients.js";
export { type DeadLetterRoutesOptions, registerDeadLetterRoutes } from "./dead-letters/dead-letter-routes.js";
export {
  DeadLetterDetail,
  DeadLetterList,
  DeadLetterListQuery,
  DeadLetterOutcome,
  DeadLetterParams,
  DeadLetterSummary,
} from "./dead-letters/dead-letter-schemas.js";
export { createEventDispatcher } from "./event-dispatcher.js";
export { type Runnable, startAll, stopAll } from "./lifecycle.js";
export * from "./ops/index.js";
export {
  type AnyServiceDefinition,
  type BackgroundTask,
  type EventBinding,
  on,
  type ServiceClients,
  type ServiceContext,
  type ServiceDefinition,
} from "./service-definition.js";
export { ServiceHost, type ServiceHostOptions } from "./service-host.js";
export { type NoSettings, resolveSettings, type Settings } from "./settings.js";
