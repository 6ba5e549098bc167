import { requireAdmin } from "@blossom/auth";
import { type App, HttpProblem } from "@blossom/runtime";
import type { TraceReader } from "@blossom/telemetry";
import { Type } from "@sinclair/typebox";

/** The gateway's own operations API: not forwarded, admins only. */
export const OPS_PREFIX = "/api/ops";

const TraceSummary = Type.Object({
  traceId: Type.String(),
  rootName: Type.String({ description: "name of the trace's first span (e.g. POST /api/orders)" }),
  services: Type.Array(Type.String(), { description: "services with a span in the trace" }),
  spanCount: Type.Integer(),
  startTime: Type.String({ format: "date-time" }),
  durationMs: Type.Number(),
  error: Type.Boolean({ description: "whether any span failed" }),
});

const TraceList = Type.Object({ items: Type.Array(TraceSummary) });

const AttributeValue = Type.Union([
  Type.String(),
  Type.Number(),
  Type.Boolean(),
  Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
]);

const Span = Type.Object({
  traceId: Type.String(),
  spanId: Type.String(),
  parentSpanId: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  kind: Type.Union(
    ["internal", "server", "client", "producer", "consumer"].map((kind) => Type.Literal(kind)),
  ),
  service: Type.String({
    description: "the owning service (attribute blossom.service, else the resource's)",
  }),
  startTime: Type.String({ format: "date-time" }),
  durationMs: Type.Number(),
  status: Type.Union([Type.Literal("unset"), Type.Literal("ok"), Type.Literal("error")]),
  attributes: Type.Record(Type.String(), AttributeValue),
});

const TraceDetail = Type.Object({ traceId: Type.String(), spans: Type.Array(Span) });

const ListQuery = Type.Object({
  service: Type.Optional(Type.String({ pattern: "^[a-z][a-z0-9-]{0,40}$" })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});

const TraceParams = Type.Object({ traceId: Type.String({ pattern: "^[0-9a-f]{32}$" }) });

function buffer(spans: TraceReader | undefined): TraceReader {
  if (!spans)
    throw HttpProblem.of(
      "unavailable",
      "No spans are kept in this process: tracing is off (OTEL_SDK_DISABLED) or BLOSSOM_TRACE_BUFFER_SPANS is 0.",
    );
  return spans;
}

/**
 * `GET /api/ops/traces?service=&limit=` (the newest traces, newest first) and
 * `GET /api/ops/traces/:traceId` (every span of one trace): the recent spans this process kept
 * in memory. On the embedded default that is every service's; with a process per service, the
 * gateway's own (use the OTLP backend for the whole picture).
 */
export function registerTraceRoutes(app: App, spans: TraceReader | undefined): void {
  app.get(
    `${OPS_PREFIX}/traces`,
    {
      config: { auth: "admin" },
      schema: { tags: ["ops"], querystring: ListQuery, response: { 200: TraceList } },
    },
    async (request) => {
      requireAdmin(request);
      const { service, limit } = request.query;
      return { items: await buffer(spans).list({ limit, ...(service ? { service } : {}) }) };
    },
  );
  app.get(
    `${OPS_PREFIX}/traces/:traceId`,
    {
      config: { auth: "admin" },
      schema: { tags: ["ops"], params: TraceParams, response: { 200: TraceDetail } },
    },
    async (request) => {
      requireAdmin(request);
      const found = await buffer(spans).trace(request.params.traceId);
      if (!found) throw HttpProblem.of("notFound", "No such trace among the recent ones kept in memory.");
      return { traceId: request.params.traceId, spans: found };
    },
  );
}
