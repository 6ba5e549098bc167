/**
 * The console's in-memory buffers filled to capacity in this process, with the heap they take
 * (`process.memoryUsage().heapUsed` after a full collection, before and after the fill): each
 * buffer as its default limits make it, filled once with typical entries and once with the
 * largest entries its caps let in. Heap sizes do not depend on the machine's load, unlike the
 * throughput figures. The garbage collector is exposed at run time (`v8.setFlagsFromString`)
 * when node was not started with --expose-gc; without it only the limits are reported.
 *
 *   log ring        one per runnable (6 in `blossom start`: the gateway and five services)
 *   span store      one per process (the embedded default: every service's spans)
 *   metrics history one per runnable; its points are measured from the platform's own
 *                   `GET /api/ops/metrics` answer (what the bench's console read), not refilled
 *   dead letters    one list per consumer on the memory bus (4 consumers in `blossom start`)
 */
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  createEnvelope,
  DEFAULT_MAX_DEAD_LETTER_CHARS,
  DEFAULT_MAX_DEAD_LETTERS,
  MAX_DEAD_LETTER_ERROR_CHARS,
  MemoryBus,
} from "@blossom/bus";
import {
  createLogger,
  DEFAULT_LOG_RING_BYTES,
  DEFAULT_LOG_RING_LINES,
  LogRing,
  MAX_LOG_LINE_CHARS,
} from "@blossom/runtime";
import {
  DEFAULT_HISTORY_MS,
  DEFAULT_SAMPLE_INTERVAL_MS,
  DEFAULT_SPAN_STORE_CHARS,
  MAX_STORED_VALUE_CHARS,
  SpanStore,
  type StoredSpan,
} from "@blossom/telemetry";
import { type Attributes, type Context, context, SpanKind, trace } from "@opentelemetry/api";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { type Cell, fmt, table } from "./report.js";

/** How many of each buffer one `blossom start` process keeps. */
export const PER_EMBEDDED_PROCESS = { logRings: 6, spanStores: 1, metricsHistories: 6, consumers: 4 };
const SPAN_STORE_SPANS = 10_000;
const HISTORY_POINTS = Math.ceil(DEFAULT_HISTORY_MS / DEFAULT_SAMPLE_INTERVAL_MS);
const MiB = 2 ** 20;

/** One buffer filled to capacity. */
export interface BufferFill {
  buffer: string;
  limits: string;
  filledWith: string;
  /** Entries kept once full. */
  entries: number;
  /** Characters of text the buffer counts against its budget, when it has one. */
  chars: number | undefined;
  /** Heap growth of the fill, bytes; undefined without a garbage collector to call. */
  heapBytes: number | undefined;
  /** How many of this buffer one embedded process keeps. */
  perProcess: number;
}

/** What the platform itself served, to fill the buffers with its real entries. */
export interface PlatformSamples {
  /** The spans of one checkout's trace (`GET /api/ops/traces/:id`). */
  checkoutSpans: StoredSpan[] | undefined;
  /** The text of a whole `GET /api/ops/metrics` answer (every runnable's history). */
  metricsText: string | undefined;
}

function garbageCollector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

/** Heap growth while `fill`'s result stays reachable. */
async function heapGrowth<T>(gc: (() => void) | undefined, fill: () => Promise<T> | T) {
  const heap = () => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const before = heap();
  const kept = await fill();
  const after = heap();
  return { kept, bytes: gc ? Math.max(0, after - before) : undefined };
}

const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

/** A log ring with the default limits, fed by a real pino logger with `lines` lines. */
function fillLogRing(line: (n: number) => [Record<string, unknown>, string]): LogRing {
  const ring = new LogRing();
  const logger = createLogger({
    service: "orders",
    instance: "bench-host-12345",
    ring,
    destination: discard,
  });
  for (let n = 0; n < DEFAULT_LOG_RING_LINES * 2; n++) logger.info(...line(n));
  return ring;
}

const accessLine = (n: number): [Record<string, unknown>, string] => [
  {
    request_id: randomUUID(),
    correlation_id: randomUUID(),
    trace_id: randomUUID().replaceAll("-", ""),
    span_id: randomUUID().replaceAll("-", "").slice(0, 16),
    user_id: randomUUID(),
    method: "GET",
    url: `/api/orders/${randomUUID()}`,
    route: "/api/orders/:id",
    status: 200,
    duration_ms: 3.14 + (n % 10),
  },
  "request",
];

/** A copy of `attributes` with strings of their own: a real span's values are its own strings. */
function ownStrings(attributes: StoredSpan["attributes"]): Attributes {
  const copy = (value: unknown) => (typeof value === "string" ? Buffer.from(value).toString() : value);
  return Object.fromEntries(
    Object.entries(attributes).map(([key, value]) => [
      key,
      Array.isArray(value) ? value.map(copy) : copy(value),
    ]),
  ) as Attributes;
}

/** Spans that look like `template` (a checkout's, from the platform), through a real SDK tracer. */
function fillSpanStore(template: readonly StoredSpan[], spans: number): SpanStore {
  const store = new SpanStore();
  const tracer = new BasicTracerProvider({ spanProcessors: [store] }).getTracer("bench");
  const kinds: Record<StoredSpan["kind"], SpanKind> = {
    internal: SpanKind.INTERNAL,
    server: SpanKind.SERVER,
    client: SpanKind.CLIENT,
    producer: SpanKind.PRODUCER,
    consumer: SpanKind.CONSUMER,
  };
  const start = (span: StoredSpan, parent?: Context) =>
    tracer.startSpan(
      Buffer.from(span.name).toString(),
      { kind: kinds[span.kind], attributes: ownStrings(span.attributes) },
      parent,
    );
  for (let made = 0; made < spans; ) {
    const [first, ...rest] = template;
    if (!first) break;
    const root = start(first);
    const parent = trace.setSpan(context.active(), root);
    for (const span of rest) start(span, parent).end();
    root.end();
    made += template.length;
  }
  return store;
}

/** When the platform gave no trace: a server span and the SQL spans under it, as a checkout has them. */
const SYNTHETIC_TRACE: StoredSpan[] = Array.from(
  { length: 10 },
  (_, index): StoredSpan => ({
    traceId: "0".repeat(32),
    spanId: String(index).padStart(16, "0"),
    parentSpanId: index === 0 ? null : "0".repeat(16),
    name: index === 0 ? "POST /api/orders" : "pg.query:SELECT blossom",
    kind: index === 0 ? "server" : "client",
    service: "orders",
    startTime: new Date(0).toISOString(),
    durationMs: 1,
    status: "unset",
    attributes:
      index === 0
        ? {
            "http.request.method": "POST",
            "url.path": "/api/orders",
            "http.route": "/api/orders",
            "blossom.service": "orders",
            "user_agent.original": "undici",
            "http.response.status_code": 201,
          }
        : {
            "db.system.name": "postgresql",
            "db.query.text": `select "id", "status", "total_cents" from "orders"."orders" where "id" = $1 -- ${index}`,
            "blossom.service": "orders",
          },
  }),
);

/** A memory bus whose one consumer dead-letters every event: `count` events of `data`. */
async function fillDeadLetters(count: number, data: () => unknown): Promise<MemoryBus> {
  const bus = new MemoryBus();
  await bus.subscribe(
    "payments",
    ["orders.order-placed.v1"],
    async () => {
      throw new Error("card declined: the issuer refused the authorization (do_not_honor)");
    },
    { maxDeliver: 1 },
  );
  for (let n = 0; n < count; n++)
    await bus.publish([
      createEnvelope("orders", {
        type: "orders.order-placed.v1",
        subject: randomUUID(),
        data: data(),
        traceparent: `00-${randomUUID().replaceAll("-", "")}-${randomUUID().replaceAll("-", "").slice(0, 16)}-01`,
        correlationId: randomUUID(),
      }),
    ]);
  return bus;
}

const orderPlaced = () => ({
  orderId: randomUUID(),
  userId: randomUUID(),
  items: [
    { productId: randomUUID(), sku: "TEA-GREEN-100G", quantity: 1, unitPriceCents: 1290 },
    { productId: randomUUID(), sku: "MUG-STONE-350", quantity: 2, unitPriceCents: 1850 },
  ],
  totalCents: 4990,
  currency: "EUR",
  paymentMethodId: randomUUID(),
});

/** Every buffer filled to capacity, typical entries then the largest ones. */
export async function fillBuffers(samples: PlatformSamples): Promise<{ fills: BufferFill[]; gc: boolean }> {
  const gc = garbageCollector();
  const fills: BufferFill[] = [];
  const ringLimits = `${fmt(DEFAULT_LOG_RING_LINES)} lines, ${DEFAULT_LOG_RING_BYTES / MiB} Mi chars; a line cut at ${fmt(MAX_LOG_LINE_CHARS)}`;
  for (const [filledWith, line] of [
    ["access lines as pino writes them", accessLine],
    [
      "lines over the cut (20,000 chars), kept cut",
      (n: number): [Record<string, unknown>, string] => [{ blob: "x".repeat(20_000), n }, "huge"],
    ],
  ] as const) {
    const { kept, bytes } = await heapGrowth(gc, () => fillLogRing(line));
    fills.push({
      buffer: "log ring",
      limits: ringLimits,
      filledWith: `${filledWith} (${fmt(kept.charCount / Math.max(kept.size, 1))} chars each)`,
      entries: kept.size,
      chars: kept.charCount,
      heapBytes: bytes,
      perProcess: PER_EMBEDDED_PROCESS.logRings,
    });
  }

  const template =
    samples.checkoutSpans && samples.checkoutSpans.length > 0 ? samples.checkoutSpans : SYNTHETIC_TRACE;
  const spanLimits = `${fmt(SPAN_STORE_SPANS)} spans, 1,000 traces, ${DEFAULT_SPAN_STORE_CHARS / MiB} Mi chars; a value cut at ${fmt(MAX_STORED_VALUE_CHARS)}`;
  const long = template.map((span) => ({
    ...span,
    attributes: { ...span.attributes, "url.query": "q".repeat(MAX_STORED_VALUE_CHARS) },
  }));
  for (const [filledWith, spans] of [
    [
      `${samples.checkoutSpans ? "a checkout's spans from the platform" : "synthetic checkout spans"} (${template.length} per trace)`,
      template,
    ],
    [`the same, each with a ${fmt(MAX_STORED_VALUE_CHARS)}-char value`, long],
  ] as const) {
    const { kept, bytes } = await heapGrowth(gc, () => fillSpanStore(spans, SPAN_STORE_SPANS * 2));
    fills.push({
      buffer: "span store",
      limits: spanLimits,
      filledWith,
      entries: kept.spanCount,
      chars: kept.charCount,
      heapBytes: bytes,
      perProcess: PER_EMBEDDED_PROCESS.spanStores,
    });
  }

  const history = metricsHistory(samples.metricsText, gc);
  if (history) fills.push(history);

  const deadLetterLimits = `${fmt(DEFAULT_MAX_DEAD_LETTERS)} per consumer, ${DEFAULT_MAX_DEAD_LETTER_CHARS / MiB} Mi chars; an error cut at ${fmt(MAX_DEAD_LETTER_ERROR_CHARS)}`;
  for (const [filledWith, data] of [
    ["order-placed events", orderPlaced],
    ["events of 8 KiB", () => ({ ...orderPlaced(), note: "n".repeat(8_192) })],
  ] as const) {
    const { kept, bytes } = await heapGrowth(gc, () => fillDeadLetters(DEFAULT_MAX_DEAD_LETTERS + 100, data));
    const letters = await kept.deadLetters("payments", DEFAULT_MAX_DEAD_LETTERS * 2);
    fills.push({
      buffer: "dead letters (memory bus)",
      limits: deadLetterLimits,
      filledWith,
      entries: letters.length,
      chars: letters.reduce(
        (sum, letter) => sum + JSON.stringify(letter.event).length + letter.error.length,
        0,
      ),
      heapBytes: bytes,
      perProcess: PER_EMBEDDED_PROCESS.consumers,
    });
    await kept.close();
  }
  return { fills, gc: gc !== undefined };
}

/**
 * The metrics history at capacity, from the platform's own answer: each runnable's largest
 * point (as JSON, and its heap once parsed) times the points kept (180).
 */
function metricsHistory(text: string | undefined, gc: (() => void) | undefined): BufferFill | undefined {
  if (!text) return undefined;
  const parsed = { value: undefined as unknown };
  const heap = () => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const before = heap();
  parsed.value = JSON.parse(text);
  const after = heap();
  const { series } = parsed.value as { series: Array<{ service: string; points: unknown[] }> };
  const points = series.reduce((sum, one) => sum + one.points.length, 0);
  if (points === 0) return undefined;
  const heapPerChar = gc ? Math.max(0, after - before) / text.length : undefined;
  // Per runnable: its largest point, as if all 180 were as large.
  let chars = 0;
  for (const one of series) {
    const largest = Math.max(0, ...one.points.map((point) => JSON.stringify(point).length));
    chars += largest * HISTORY_POINTS;
  }
  const runnables = series.length;
  return {
    buffer: "metrics history",
    limits: `${HISTORY_POINTS} points (15 min every 5 s); a point holds the registry's series (fixed label sets)`,
    filledWith: `each runnable's largest point after the load x ${HISTORY_POINTS} (${runnables} runnables read)`,
    // Per runnable, as the other rows are per buffer.
    entries: HISTORY_POINTS,
    chars: Math.round(chars / runnables),
    heapBytes: heapPerChar === undefined ? undefined : Math.round((heapPerChar * chars) / runnables),
    perProcess: PER_EMBEDDED_PROCESS.metricsHistories,
  };
}

/** The fills as a table, with the heap one embedded process would hold with every buffer full. */
export function buffersTable(fills: readonly BufferFill[], gc: boolean): string {
  const rows: Cell[][] = fills.map((fill) => [
    fill.buffer,
    fill.filledWith,
    fmt(fill.entries),
    fill.chars === undefined ? undefined : fmt(fill.chars),
    fill.heapBytes === undefined ? undefined : fill.heapBytes / MiB,
    fill.heapBytes === undefined || fill.entries === 0 ? undefined : fmt(fill.heapBytes / fill.entries),
    String(fill.perProcess),
  ]);
  const worst = new Map<string, number>();
  for (const fill of fills) {
    if (fill.heapBytes === undefined) continue;
    worst.set(fill.buffer, Math.max(worst.get(fill.buffer) ?? 0, fill.heapBytes * fill.perProcess));
  }
  const total = [...worst.values()].reduce((sum, bytes) => sum + bytes, 0);
  const limits = [...new Map(fills.map((fill) => [fill.buffer, fill.limits])).entries()].map(
    ([buffer, limit]) => `  limits: ${buffer}: ${limit}`,
  );
  return [
    table(
      "In-memory buffers of the console, each filled to capacity in the bench's process (default limits; heap = heapUsed growth after a full GC)",
      ["buffer", "filled with", "entries kept", "chars counted", "heap MiB", "bytes/entry", "per process"],
      rows,
    ),
    ...limits,
    gc
      ? `  one embedded process with every buffer full of its largest entries: ${fmt(total / MiB)} MiB of heap (each buffer's larger fill x its count per process)`
      : "  note: no garbage collector could be exposed: heap not measured, limits only",
    "",
  ].join("\n");
}
