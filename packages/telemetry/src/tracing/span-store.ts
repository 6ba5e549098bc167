import { type Attributes, type Context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { hrTimeToMilliseconds } from "@opentelemetry/core";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { cutText } from "../cut-text.js";
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
  /**
   * Characters kept over all spans (names, attribute keys and values, as `textSize` counts them);
   * the oldest traces go first. Default `DEFAULT_SPAN_STORE_CHARS`.
   */
  maxChars?: number;
}

/**
 * The default text budget: 8 Mi characters (8 MiB of ASCII, 16 MiB at most). A checkout's spans
 * count a few hundred characters each, so 10,000 of them stay well below it: the budget only
 * bites when spans carry long values (long SQL, long URLs, long user agents).
 */
export const DEFAULT_SPAN_STORE_CHARS = 8 * 1024 * 1024;

/**
 * A longer string (a span's name, an attribute value, an item of an array value) is kept cut to
 * this many characters. The OpenTelemetry SDK cuts nothing by default
 * (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT is unset), and what it cuts it keeps as a view of the whole.
 */
export const MAX_STORED_VALUE_CHARS = 4096;

/** What a number, a boolean or null counts for in `textSize`, as in JSON. */
const SCALAR_CHARS = 8;

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

const cutValue = (value: string | number | boolean) =>
  typeof value === "string" ? cutText(value, MAX_STORED_VALUE_CHARS) : value;

/** A finished span as the ops API shows it (names and values cut to `MAX_STORED_VALUE_CHARS`). */
export function toStored(span: ReadableSpan): StoredSpan {
  const attributes: Record<string, StoredAttributeValue> = {};
  for (const [key, value] of Object.entries(span.attributes)) {
    if (value === undefined) continue;
    attributes[cutText(key, MAX_STORED_VALUE_CHARS)] = Array.isArray(value)
      ? value.map((item) => (item === undefined || item === null ? null : cutValue(item)))
      : cutValue(value);
  }
  const ownService = span.attributes[ATTR_BLOSSOM_SERVICE];
  const resourceService = span.resource.attributes["service.name"];
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: cutText(span.name, MAX_STORED_VALUE_CHARS),
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

function valueSize(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) {
    let size = 0;
    for (const item of value) size += typeof item === "string" ? item.length : SCALAR_CHARS;
    return size;
  }
  return value === undefined ? 0 : SCALAR_CHARS;
}

const isLong = (value: unknown): boolean =>
  typeof value === "string"
    ? value.length > MAX_STORED_VALUE_CHARS
    : Array.isArray(value) &&
      value.some((item) => typeof item === "string" && item.length > MAX_STORED_VALUE_CHARS);

/**
 * A span's text, as the store counts it against `maxChars`: its name, and its attributes' keys
 * and values (a number, boolean or null as 8). `long`: a string of it is over
 * `MAX_STORED_VALUE_CHARS`.
 */
function textSize(
  name: string,
  attributes: Readonly<Record<string, unknown>>,
): { chars: number; long: boolean } {
  let chars = name.length;
  let long = name.length > MAX_STORED_VALUE_CHARS;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    chars += key.length + valueSize(value);
    if (!long && (key.length > MAX_STORED_VALUE_CHARS || isLong(value))) long = true;
  }
  return { chars, long };
}

/**
 * What the ops API reads recent traces from: a `SpanStore`, or one kept in another thread
 * (the gateway's thread of `npm start` asks the services' thread, which keeps every span).
 */
export interface TraceReader {
  /** Every kept span of a trace, oldest first; undefined when the trace is unknown (or gone). */
  trace(traceId: string): StoredSpan[] | undefined | Promise<StoredSpan[] | undefined>;
  /** Summaries of the newest traces, optionally only those with a span of `service`. */
  list(options: { service?: string; limit?: number }): TraceSummary[] | Promise<TraceSummary[]>;
}

/** The newest spans of one trace, each with the characters it counts for. */
interface KeptTrace {
  spans: Array<StoredSpan | ReadableSpan>;
  chars: number[];
}

/**
 * The recent finished spans of this process, grouped by trace, in a bounded buffer: when a
 * limit is passed (spans, traces, characters), whole traces are dropped oldest first (a trace is
 * dropped span by span only when it alone is larger than the buffer). It is a span processor, so
 * it sees exactly what the exporters see, sampled spans only. What a span may take is bounded
 * too: a string longer than `MAX_STORED_VALUE_CHARS` is kept cut, and a span's events (an
 * exception's stack trace) and links, which the ops API does not show, are not kept.
 */
export class SpanStore implements SpanProcessor, TraceReader {
  readonly maxSpans: number;
  readonly maxTraces: number;
  readonly maxChars: number;
  // Insertion order is age order: a Map iterates oldest trace first. Spans are kept as the SDK
  // ended them and converted only when read: most are dropped unread, and the conversion (dates,
  // attribute copies) on every span's end was a measurable part of tracing's cost. Only a span
  // with events or links, or with a string too long, is converted (and cut) as it ends.
  #traces = new Map<string, KeptTrace>();
  #spanCount = 0;
  #chars = 0;

  constructor(limits: SpanStoreLimits = {}) {
    this.maxSpans = limits.maxSpans ?? 10_000;
    this.maxTraces = limits.maxTraces ?? 1_000;
    this.maxChars = limits.maxChars ?? DEFAULT_SPAN_STORE_CHARS;
  }

  get spanCount(): number {
    return this.#spanCount;
  }

  get traceCount(): number {
    return this.#traces.size;
  }

  /** The characters the kept spans count for (at most `maxChars`, unless one span alone is larger). */
  get charCount(): number {
    return this.#chars;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const context = span.spanContext();
    if (!context.traceFlags) return;
    const { chars, long } = textSize(span.name, span.attributes);
    // What the ops API shows none of (events, links, the status's message) is only kept while short.
    const extras =
      span.events.length > 0 ||
      span.links.length > 0 ||
      (span.status.message?.length ?? 0) > MAX_STORED_VALUE_CHARS;
    if (!long && !extras) {
      this.#add(context.traceId, span, chars);
      return;
    }
    this.add(toStored(span));
  }

  /** Adds one span and enforces the limits. */
  add(span: StoredSpan): void {
    this.#add(span.traceId, span, textSize(span.name, span.attributes).chars);
  }

  #add(traceId: string, span: StoredSpan | ReadableSpan, chars: number): void {
    const kept = this.#traces.get(traceId);
    if (kept) {
      kept.spans.push(span);
      kept.chars.push(chars);
    } else this.#traces.set(traceId, { spans: [span], chars: [chars] });
    this.#spanCount += 1;
    this.#chars += chars;
    while (
      this.#traces.size > this.maxTraces ||
      this.#spanCount > this.maxSpans ||
      (this.#chars > this.maxChars && this.#spanCount > 1)
    ) {
      const [oldestId, oldest] = this.#traces.entries().next().value as [string, KeptTrace];
      if (this.#traces.size === 1) {
        // One trace larger than the whole buffer: keep its newest spans.
        oldest.spans.shift();
        this.#spanCount -= 1;
        this.#chars -= oldest.chars.shift() ?? 0;
        continue;
      }
      this.#traces.delete(oldestId);
      this.#spanCount -= oldest.spans.length;
      for (const size of oldest.chars) this.#chars -= size;
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
    const spans = this.#traces.get(traceId)?.spans;
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
    this.#chars = 0;
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
