/**
 * The operations console's API types, from the platform's own schemas and interfaces (type-only
 * imports, erased by the build: the console ships none of the services' code, and a change of
 * an ops API breaks the console's type-check).
 */
import type { Static } from "@sinclair/typebox";
import type {
  DeadLetterDetail,
  DeadLetterList,
  DeadLetterOutcome,
} from "../../../../packages/host/src/dead-letters/dead-letter-schemas.js";
import type { LogsPage, MetricsPage } from "../../../../packages/host/src/ops/ops-schemas.js";
import type { StoredSpan, TraceSummary } from "../../../../packages/telemetry/src/tracing/span-store.js";
import type { MailboxPage } from "../../../../services/notifications/src/api/schemas.js";
import type { SagaPage } from "../../../../services/orders/src/api/schemas.js";

export type Logs = Static<typeof LogsPage>;
export type LogLine = Logs["items"][number];
export type Metrics = Static<typeof MetricsPage>;
export type Series = Metrics["series"][number];
export type MetricsPoint = Series["points"][number];
export type DeadLetters = Static<typeof DeadLetterList>;
export type DeadLetter = DeadLetters["items"][number];
export type DeadLetterView = Static<typeof DeadLetterDetail>;
export type DeadLetterAnswer = Static<typeof DeadLetterOutcome>;
export type Span = StoredSpan;
/** `GET /api/notifications/mailbox`: what the development sinks received. */
export type Mailbox = Static<typeof MailboxPage>;
export type MailboxMessage = Mailbox["items"][number];
/** `GET /api/orders/sagas`: checkouts with their saga step, deadline and history. */
export type Sagas = Static<typeof SagaPage>;
export type Saga = Sagas["items"][number];
export type Trace = TraceSummary;
export interface TraceList {
  items: TraceSummary[];
}
export interface TraceDetail {
  traceId: string;
  spans: StoredSpan[];
}

/** `GET /health/ready` as the gateway answers it (services/gateway/src/readiness.ts). */
export interface Readiness {
  service: string;
  status: string;
  services: Record<string, { state: "ready" | "not-ready"; detail: unknown }>;
}

/** The runnables of the platform, in the order the console lists them. */
export const SERVICES = ["gateway", "users", "inventory", "orders", "payments", "notifications"] as const;
/** The services with an event consumer (and so dead letters). */
export const CONSUMERS = ["users", "inventory", "orders", "payments", "notifications"] as const;
