import { Type } from "@sinclair/typebox";

/**
 * The operations console's data APIs (logs, metrics), in a file of their own that imports nothing
 * but TypeBox: the gateway's public routes (`GET /api/ops/logs`, `GET /api/ops/metrics`) and every
 * instance's internal ones (`GET /internal/ops/…`) share them, and a console page can take its
 * types from here (type-only imports) without type-checking the host.
 */

const LOG_LEVEL_NAMES = ["trace", "debug", "info", "warn", "error", "fatal"] as const;

const ServiceName = Type.String({ pattern: "^[a-z][a-z0-9-]{0,40}$" });

/** Opaque: the `cursor` of the previous answer (every instance's last line seen). */
const Cursor = Type.String({
  pattern: "^[A-Za-z0-9_-]{0,4000}$",
  description: "the previous answer's cursor",
});

export const LogsQuery = Type.Object({
  service: Type.Optional(ServiceName),
  level: Type.Optional(
    Type.Union(
      LOG_LEVEL_NAMES.map((level) => Type.Literal(level)),
      { description: "this level and above" },
    ),
  ),
  traceId: Type.Optional(Type.String({ pattern: "^[0-9a-f]{32}$" })),
  orderId: Type.Optional(
    Type.String({ pattern: "^[A-Za-z0-9_-]{1,100}$", description: "lines that mention this order id" }),
  ),
  since: Type.Optional(
    Type.String({ format: "date-time", description: "lines logged at or after this time" }),
  ),
  after: Type.Optional(Cursor),
  limit: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 200,
    description: "the newest lines that match",
  }),
});

export const LogLineSchema = Type.Object({
  time: Type.String(),
  level: Type.String(),
  service: Type.String(),
  instance: Type.String(),
  msg: Type.String(),
  traceId: Type.Union([Type.String(), Type.Null()]),
  fields: Type.Record(Type.String(), Type.Unknown(), {
    description: "the rest of the line as logged (secrets redacted before it was kept)",
  }),
  truncated: Type.Boolean({ description: "the line was longer than 8 KiB and is cut" }),
});

export const LogsPage = Type.Object({
  items: Type.Array(LogLineSchema, { description: "oldest first" }),
  cursor: Type.String({ description: "pass as `after` for the lines logged since (live tail)" }),
  unavailable: Type.Array(Type.String(), { description: "instances that did not answer" }),
});

/** One instance's own answer (internal). */
export const InstanceLogs = Type.Object({
  source: Type.String(),
  lastSeq: Type.Integer(),
  items: Type.Array(LogLineSchema),
});

const Quantile = Type.Union([Type.Number(), Type.Null()]);
const RequestFiguresSchema = Type.Object({
  rate: Type.Number({ description: "requests per second" }),
  errorRate: Type.Number({ description: "5xx answers per second" }),
  p50Ms: Quantile,
  p95Ms: Quantile,
  p99Ms: Quantile,
});

export const MetricsPointSchema = Type.Object({
  time: Type.String({ format: "date-time" }),
  intervalSeconds: Type.Number(),
  requests: RequestFiguresSchema,
  routes: Type.Array(
    Type.Composite([Type.Object({ method: Type.String(), route: Type.String() }), RequestFiguresSchema]),
  ),
  rates: Type.Record(Type.String(), Type.Number(), {
    description: 'counters per second, keyed name{label="value"}; absent = 0',
  }),
  gauges: Type.Record(Type.String(), Type.Number()),
  histograms: Type.Record(
    Type.String(),
    Type.Object({
      rate: Type.Number({ description: "observations per second" }),
      p50: Quantile,
      p95: Quantile,
      p99: Quantile,
      buckets: Type.Record(Type.String(), Type.Number(), {
        description:
          'observations in the interval per bucket (not cumulative), keyed by its upper bound le ("0.005", "+Inf"); empty buckets left out. Summed over points and instances, they give a quantile over a longer window',
      }),
    }),
    {
      description:
        'other histograms that recorded something in the interval, in seconds, keyed name{label="value"}: checkout duration by outcome, event delivery delay by event type',
    },
  ),
});

export const MetricsSeries = Type.Object({
  service: Type.String(),
  instance: Type.String(),
  intervalSeconds: Type.Number({ description: "seconds between samples" }),
  points: Type.Array(MetricsPointSchema, { description: "oldest first, 15 minutes at most" }),
});

export const MetricsQuery = Type.Object({
  service: Type.Optional(ServiceName),
  since: Type.Optional(Type.String({ format: "date-time", description: "points after this time" })),
});

export const MetricsPage = Type.Object({
  series: Type.Array(MetricsSeries, { description: "one per instance of each runnable" }),
  unavailable: Type.Array(Type.String(), { description: "instances that did not answer" }),
});

export const InstanceMetricsQuery = Type.Object({
  since: Type.Optional(Type.String({ format: "date-time" })),
});
