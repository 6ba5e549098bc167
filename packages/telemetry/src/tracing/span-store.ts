import { type Attributes, type Context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { hrTimeToMilliseconds } from "@opentelemetry/core";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ATTR_BLOSSOM_SERVICE } from "./attributes.js";

/** An attribute value as JSON has it (OpenTelemetry arrays may hold undefined: null here). */
export type StoredAttributeValue = string | number | boolean | Array<string | number | boolean | null>;

/** One finished span as the ops API shows it. */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: "internal" | "server" | "client" | "producer" | "consumer";
  /** The owning service: `blossom.service`, else the resource's `service.name`. */
  service: string;
  startTime: string;
  durationMs: number;
  status: "unset" | "ok" | "error";
  attributes: Record<string, StoredAttributeValue>;
}

/** A trace at a glance, for the list. */
export interface TraceSummary {
  traceId: string;
  rootName: string;
  services: string[];
  spanCount: number;
  startTime: string;
  durationMs: number;
  error: boolean;
}

export interface SpanStoreLimits {
  /** Spans kept in all; the oldest traces go first. Default 10,000. */
  maxSpans?: number;
  /** Traces kept; the oldest go first. Default 1,000. */
  maxTraces?: number;
}

const KINDS: Record<SpanKind, StoredSpan["kind"]> = {
  [SpanKind.INTERNAL]: "internal",
  [SpanKind.SERVER]: "server",
  [SpanKind.CLIENT]: "client",
  [SpanKind.PRODUCER]: "producer",
  [SpanKind.CONSUMER]: "consumer",
};

const STATUSES: Record<SpanStatusCode, StoredSpan["status"]> = {
  [SpanStatusCode.UNSET]: "unset",
  [SpanStatusCode.OK]: "ok",
  [SpanStatusCode.ERROR]: "error",
};

function toStored(span: ReadableSpan): StoredSpan {
  const attributes: Record<string, StoredAttributeValue> = {};
  for (const [key, value] of Object.entries(span.attributes)) {
    if (value === undefined) continue;
    attributes[key] = Array.isArray(value) ? value.map((item) => item ?? null) : value;
  }
  const ownService = span.attributes[ATTR_BLOSSOM_SERVICE];
  const resourceService = span.resource.attributes["service.name"];
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: KINDS[span.kind],
    service: String(ownService ?? resourceService ?? "unknown"),
    startTime: new Date(hrTimeToMilliseconds(span.startTime)).toISOString(),
    durationMs: Math.round(hrTimeToMilliseconds(span.duration) * 1000) / 1000,
    status: STATUSES[span.status.code],
    attributes,
  };
}

function isStored(span: StoredSpan | ReadableSpan): span is StoredSpan {
  return typeof (span as Partial<StoredSpan>).traceId === "string";
}

/**
 * The recent finished spans of this process, grouped by trace, in a bounded buffer: when either
 * limit is passed, whole traces are dropped oldest first (a trace is dropped span by span only
 * when it alone is larger than the buffer). It is a span processor, so it sees exactly what the
 * exporters see, sampled spans only.
 */
export class SpanStore implements SpanProcessor {
  readonly maxSpans: number;
  readonly maxTraces: number;
  // Insertion order is age order: a Map iterates oldest trace first. Spans are kept as the SDK
  // ended them and converted only when read: most are dropped unread, and the conversion (dates,
  // attribute copies) on every span's end was a measurable part of tracing's cost.
  #traces = new Map<string, Array<StoredSpan | ReadableSpan>>();
  #spanCount = 0;

  constructor(limits: SpanStoreLimits = {}) {
    this.maxSpans = limits.maxSpans ?? 10_000;
    this.maxTraces = limits.maxTraces ?? 1_000;
  }

  get spanCount(): number {
    return this.#spanCount;
  }

  get traceCount(): number {
    return this.#traces.size;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const context = span.spanContext();
    if (!context.traceFlags) return;
    this.#add(context.traceId, span);
  }

  /** Adds one span and enforces the limits. */
  add(span: StoredSpan): void {
    this.#add(span.traceId, span);
  }

  #add(traceId: string, span: StoredSpan | ReadableSpan): void {
    const spans = this.#traces.get(traceId);
    if (spans) spans.push(span);
    else this.#traces.set(traceId, [span]);
    this.#spanCount += 1;
    while (this.#traces.size > this.maxTraces || this.#spanCount > this.maxSpans) {
      const [oldestId, oldest] = this.#traces.entries().next().value as [
        string,
        Array<StoredSpan | ReadableSpan>,
      ];
      if (this.#traces.size === 1) {
        // One trace larger than the whole buffer: keep its newest spans.
        oldest.shift();
        this.#spanCount -= 1;
        continue;
      }
      this.#traces.delete(oldestId);
      this.#spanCount -= oldest.length;
    }
  }

  /** Every kept span of a trace, oldest first; undefined when the trace is unknown (or gone). */
  trace(traceId: string): StoredSpan[] | undefined {
    const spans = this.#stored(traceId);
    return spans ? [...spans].sort((a, b) => a.startTime.localeCompare(b.startTime)) : undefined;
  }

  /** Summaries of the newest traces, optionally only those with a span of `service`. */
  list(options: { service?: string; limit?: number } = {}): TraceSummary[] {
    const limit = options.limit ?? 20;
    const summaries: TraceSummary[] = [];
    for (const traceId of [...this.#traces.keys()].reverse()) {
      const spans = this.#stored(traceId) ?? [];
      if (options.service && !spans.some((span) => span.service === options.service)) continue;
      summaries.push(summarize(spans));
      if (summaries.length >= limit) break;
    }
    return summaries;
  }

  /** A trace's spans, converted (in place, once) to what the ops API shows. */
  #stored(traceId: string): StoredSpan[] | undefined {
    const spans = this.#traces.get(traceId);
    if (!spans) return undefined;
    for (let i = 0; i < spans.length; i++) {
      const span = spans[i];
      if (span && !isStored(span)) spans[i] = toStored(span);
    }
    return spans as StoredSpan[];
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.#traces.clear();
    this.#spanCount = 0;
  }
}

function summarize(spans: StoredSpan[]): TraceSummary {
  const ids = new Set(spans.map((span) => span.spanId));
  const start = Math.min(...spans.map((span) => Date.parse(span.startTime)));
  const end = Math.max(...spans.map((span) => Date.parse(span.startTime) + span.durationMs));
  // The root: the span without a parent, else (its parent is in another process or gone) the earliest.
  const sorted = [...spans].sort((a, b) => a.startTime.localeCompare(b.startTime));
  const root =
    sorted.find((span) => span.parentSpanId === null) ??
    sorted.find((span) => !span.parentSpanId || !ids.has(span.parentSpanId)) ??
    sorted[0];
  return {
    traceId: spans[0]?.traceId ?? "",
    rootName: root?.name ?? "",
    services: [...new Set(spans.map((span) => span.service))].sort(),
    spanCount: spans.length,
    startTime: new Date(start).toISOString(),
    durationMs: Math.round((end - start) * 1000) / 1000,
    error: spans.some((span) => span.status === "error"),
  };
}

/**
 * Gives every span the `blossom.service` of its parent when the parent is a span of this
 * process: database queries, outgoing calls and events then show under the service that made
 * them, even when several services share the process (and so the resource).
 */
export class ServiceAttributeProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    if (span.attributes[ATTR_BLOSSOM_SERVICE] !== undefined) return;
    const parent = trace.getSpan(parentContext) as (Partial<ReadableSpan> & object) | undefined;
    const attributes: Attributes | undefined = parent?.attributes;
    const service = attributes?.[ATTR_BLOSSOM_SERVICE];
    if (service !== undefined) span.setAttribute(ATTR_BLOSSOM_SERVICE, service);
  }
  onEnd(): void {}
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
