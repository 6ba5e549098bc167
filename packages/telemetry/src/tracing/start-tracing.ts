import { hostname } from "node:os";
import { context, trace } from "@opentelemetry/api";
import { type Instrumentation, registerInstrumentations } from "@opentelemetry/instrumentation";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ServiceAttributeProcessor, SpanStore } from "./span-store.js";

export interface TracingOptions {
  /** `service.name` of this process: the service it runs, or `blossom` for several. OTEL_SERVICE_NAME wins. */
  serviceName: string;
  version: string;
  /** `deployment.environment`: development, test or production. */
  environment: string;
  /** `service.instance.id`; defaults to host name and pid (the logs' `instance`). */
  instanceId?: string;
  /** Spans kept in memory for `GET /api/ops/traces`; 0 = none. Default 10,000. */
  bufferSpans?: number;
  /**
   * Whether this process may talk to PostgreSQL through `pg` (default true). When it cannot
   * (embedded PGlite only), the pg instrumentation is left out: it hooks every `require` to
   * spot `pg`, which cost 0.8 s of a 4 s start-up for a module that is never loaded.
   */
  usesPg?: boolean;
  /** Traces kept in memory. Default 1,000. */
  bufferTraces?: number;
  /**
   * More span processors, after the span buffer and before the OTLP export (the gateway's
   * thread of `npm start` forwards its spans to the services' thread, which keeps them).
   */
  processors?: SpanProcessor[];
  /**
   * The environment to read the standard OTEL_* variables from (the launcher's entry point
   * passes `process.env`; the OTLP exporter reads its own OTEL_EXPORTER_OTLP_* variables).
   */
  env: Record<string, string | undefined>;
}

export interface Tracing {
  /** False when OTEL_SDK_DISABLED=true: no provider, no instrumentation, no span buffer. */
  readonly enabled: boolean;
  /** Where recent spans are kept, when the buffer is on. */
  readonly spanStore: SpanStore | undefined;
  /** Whether spans are also exported over OTLP/HTTP. */
  readonly exporting: boolean;
  /** Exports what is pending (the OTLP batch) without stopping. */
  flush(): Promise<void>;
  /** Exports what is pending and stops. */
  shutdown(): Promise<void>;
}

const DISABLED: Tracing = {
  enabled: false,
  spanStore: undefined,
  exporting: false,
  async flush() {},
  async shutdown() {},
};

let started: Tracing | undefined;
let starting: Promise<Tracing> | undefined;

/** The tracing this process started, if any. */
export function currentTracing(): Tracing | undefined {
  return started;
}

function positiveInteger(value: string | undefined): number | undefined {
  const parsed = Number(value);
  return value && Number.isInteger(parsed) && parsed > 0 ? parsed : undefined;
}

/**
 * The instrumentations to turn on, by the OpenTelemetry Node convention: every one unless
 * OTEL_NODE_ENABLED_INSTRUMENTATIONS lists some, less those OTEL_NODE_DISABLED_INSTRUMENTATIONS
 * lists (names without the `@opentelemetry/instrumentation-` prefix: `pg`, `undici`).
 */
export function selectInstrumentations(
  names: readonly string[],
  env: Record<string, string | undefined>,
): string[] {
  const list = (value: string | undefined) =>
    value
      ?.split(",")
      .map((name) => name.trim())
      .filter(Boolean);
  const enabled = list(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS);
  const disabled = new Set(list(env.OTEL_NODE_DISABLED_INSTRUMENTATIONS) ?? []);
  return names.filter((name) => (!enabled || enabled.includes(name)) && !disabled.has(name));
}

/**
 * Starts OpenTelemetry tracing for this process, once (later calls return the first result):
 * a NodeTracerProvider with the W3C trace-context propagator and AsyncLocalStorage context,
 * the undici (outgoing calls) and pg instrumentations — HTTP server spans come from Fastify's
 * hooks, see `runInServerSpan` — OTLP/HTTP export when OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, and the in-memory span buffer.
 *
 * Must be awaited before pg and undici are loaded: the instrumentations patch them as they are
 * required. Sampling follows OTEL_TRACES_SAMPLER (default parent-based always-on).
 *
 * Asynchronous because the OTLP exporter and each instrumentation are imported only when they
 * are used: the embedded default exports nothing and never loads pg, and loading the exporter
 * and the pg instrumentation anyway cost about 140 ms of start-up and 15 MiB per thread.
 */
export function startTracing(options: TracingOptions): Promise<Tracing> {
  starting ??= initTracing(options).then((tracing) => {
    started = tracing;
    return tracing;
  });
  return starting;
}

async function initTracing(options: TracingOptions): Promise<Tracing> {
  const env = options.env;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return DISABLED;
  const resource = resourceFromAttributes({
    "service.name": env.OTEL_SERVICE_NAME || options.serviceName,
    "service.namespace": "blossom",
    "service.version": options.version,
    "service.instance.id": options.instanceId ?? `${hostname()}-${process.pid}`,
    "deployment.environment": options.environment,
    "deployment.environment.name": options.environment,
  });
  const bufferSpans = options.bufferSpans ?? 10_000;
  const spanStore =
    bufferSpans > 0
      ? new SpanStore({ maxSpans: bufferSpans, maxTraces: options.bufferTraces ?? 1_000 })
      : undefined;
  // The exporter reads the OTEL_EXPORTER_OTLP_* variables itself (endpoint, headers, timeout).
  const exporting = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const processors: SpanProcessor[] = [new ServiceAttributeProcessor()];
  if (spanStore) processors.push(spanStore);
  if (options.processors) processors.push(...options.processors);
  if (exporting) {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    const delay = positiveInteger(env.OTEL_BSP_SCHEDULE_DELAY);
    processors.push(
      new BatchSpanProcessor(new OTLPTraceExporter(), delay ? { scheduledDelayMillis: delay } : {}),
    );
  }
  const provider = new NodeTracerProvider({ resource, spanProcessors: processors });
  provider.register();
  const available = {
    // Only calls made inside a traced request or event: background polls are not traces.
    undici: async (): Promise<Instrumentation> => {
      const { UndiciInstrumentation } = await import("@opentelemetry/instrumentation-undici");
      return new UndiciInstrumentation({ requireParentforSpans: true });
    },
    // Queries only: a pool checkout per transaction as a span of its own doubled pg's spans
    // without telling anything the query spans do not.
    pg: async (): Promise<Instrumentation> => {
      const { PgInstrumentation } = await import("@opentelemetry/instrumentation-pg");
      return new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true });
    },
  };
  const selected = selectInstrumentations(
    Object.keys(available).filter((name) => name !== "pg" || options.usesPg !== false),
    env,
  );
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: await Promise.all(selected.map((name) => available[name as keyof typeof available]())),
  });
  return {
    enabled: true,
    spanStore,
    exporting,
    async flush() {
      await provider.forceFlush();
    },
    async shutdown() {
      await provider.shutdown();
      context.disable();
      trace.disable();
    },
  };
}
