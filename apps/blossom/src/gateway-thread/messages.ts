import type { GatewayOptions } from "@blossom/gateway";
import type { StoredSpan, TraceSummary } from "@blossom/telemetry";

/** The gateway's options that are plain values (what a thread can be sent). */
export type GatewayValues = Pick<
  GatewayOptions,
  | "host"
  | "port"
  | "bodyLimit"
  | "drainDelayMs"
  | "corsOrigins"
  | "rateLimit"
  | "maxInFlightPerService"
  | "overloadConcurrency"
  | "metricsPort"
  | "trustedProxies"
>;

/**
 * What the gateway's thread is started with (`workerData`): values the services' thread took from
 * the configuration it read and checked, so that the gateway's thread loads neither the
 * configuration module nor, through it, every service's definition.
 */
export interface GatewayWorkerData {
  name: string;
  gateway: GatewayValues;
  /** Log lines for a reader (colour) rather than JSON lines; the gateway's log level. */
  prettyLogs: boolean;
  logLevel: string;
  /** The platform secret service credentials derive from (BLOSSOM_SERVICE_SECRET). */
  serviceSecret: string;
  dnsRefreshMs: number;
  /** Each upstream service's URL as configured (or its default local port), until `start`. */
  upstreams: Record<string, string>;
  /** NODE_ENV, for the spans' deployment environment. */
  environment: string;
  /**
   * Set when the services' thread traces: the gateway's thread then traces too, and `forward`
   * says whether its spans go to the services' thread's span buffer (the operations console's).
   */
  tracing?: { forward: boolean };
}

/** The services' thread to the gateway's. */
export type ToGatewayThread =
  /**
   * Listen, in front of these services' URLs: those of the services of this process, known once
   * they listen (a service with a configured URL keeps it).
   */
  | { type: "start"; listening: Record<string, string> }
  /** Stop accepting, drain in-flight requests, close. */
  | { type: "stop" }
  | { type: "traces-answer"; id: number; value: TraceSummary[] | StoredSpan[] | undefined };

/** The gateway's thread to the services'. */
export type FromGatewayThread =
  | { type: "listening"; url: string; metricsUrl: string | undefined }
  | { type: "stopped" }
  | { type: "failed"; message: string }
  /** Spans the gateway finished, for the services' thread's span buffer. */
  | { type: "spans"; spans: StoredSpan[] }
  /** A read of that span buffer, for `GET /api/ops/traces`. */
  | { type: "traces"; id: number; op: "list"; options: { service?: string; limit?: number } }
  | { type: "traces"; id: number; op: "trace"; traceId: string };
