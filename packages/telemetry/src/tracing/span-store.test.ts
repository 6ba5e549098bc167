import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { MAX_STORED_VALUE_CHARS, SpanStore, type StoredSpan } from "./span-store.js";

/** Heap used after a full collection (gc exposed at run time when node was not started with --expose-gc). */
function heapAfterGc(): number {
  if (!globalThis.gc) setFlagsFromString("--expose-gc");
  const gc = (globalThis.gc ?? runInNewContext("gc")) as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

let clock = Date.parse("2026-01-01T00:00:00Z");

function span(traceId: string, spanId: string, overrides: Partial<StoredSpan> = {}): StoredSpan {
  clock += 10;
  return {
    traceId,
    spanId,
    parentSpanId: null,
    name: `op ${spanId}`,
    kind: "internal",
    service: "orders",
    startTime: new Date(clock).toISOString(),
    durationMs: 5,
    status: "unset",
    attributes: {},
    ...overrides,
  };
}

describe("SpanStore", () => {
  it("groups spans by trace and summarizes each: root, services, count, duration, error", () => {
    const store = new SpanStore();
    const root = span("t1", "a", { name: "POST /api/orders", service: "gateway", durationMs: 100 });
    store.add(root);
    store.add(span("t1", "b", { parentSpanId: "a", service: "orders" }));
    store.add(span("t1", "c", { parentSpanId: "b", service: "inventory", status: "error" }));
    store.add(span("t2", "d", { service: "users" }));
    expect(store.trace("t1")?.map((s) => s.spanId)).toEqual(["a", "b", "c"]);
    expect(store.trace("nope")).toBeUndefined();
    const [newest, older] = store.list();
    expect(newest?.traceId).toBe("t2");
    expect(older).toMatchObject({
      traceId: "t1",
      rootName: "POST /api/orders",
      services: ["gateway", "inventory", "orders"],
      spanCount: 3,
      durationMs: 100,
      error: true,
      startTime: root.startTime,
    });
    expect(store.list({ service: "inventory" }).map((t) => t.traceId)).toEqual(["t1"]);
    expect(store.list({ limit: 1 }).map((t) => t.traceId)).toEqual(["t2"]);
  });

  it("names a trace after its earliest span whose parent is elsewhere (another process)", () => {
    const store = new SpanStore();
    store.add(span("t1", "b", { parentSpanId: "remote", name: "orders.order-placed.v1 process" }));
    store.add(span("t1", "c", { parentSpanId: "b" }));
    expect(store.list()[0]?.rootName).toBe("orders.order-placed.v1 process");
  });

  it("drops whole traces, oldest first, past either bound", () => {
    const store = new SpanStore({ maxSpans: 5, maxTraces: 2 });
    store.add(span("t1", "a"));
    store.add(span("t2", "b"));
    store.add(span("t3", "c"));
    expect(store.list().map((t) => t.traceId)).toEqual(["t3", "t2"]);
    store.add(span("t3", "d"));
    store.add(span("t3", "e"));
    store.add(span("t3", "f"));
    // 1 (t2) + 4 (t3) = 5 spans: at the bound, nothing more goes.
    expect(store.spanCount).toBe(5);
    store.add(span("t3", "g"));
    expect(store.trace("t2")).toBeUndefined();
    expect(store.spanCount).toBe(5);
    expect(store.traceCount).toBe(1);
  });

  it("keeps the newest spans of one trace larger than the whole buffer", () => {
    const store = new SpanStore({ maxSpans: 3 });
    for (const id of ["a", "b", "c", "d", "e"]) store.add(span("big", id));
    expect(store.trace("big")?.map((s) => s.spanId)).toEqual(["c", "d", "e"]);
    expect(store.spanCount).toBe(3);
  });

  it("drops whole traces, oldest first, past its character budget", () => {
    const store = new SpanStore({ maxChars: 1000 });
    const text = "x".repeat(300);
    for (const id of ["t1", "t2", "t3", "t4"])
      store.add(span(id, `s-${id}`, { attributes: { "db.query.text": text } }));
    // Each span counts its name ("op s-t1": 7), the key (13) and the value (300): 320; four are 1,280.
    expect(store.list().map((t) => t.traceId)).toEqual(["t4", "t3", "t2"]);
    expect(store.charCount).toBe(3 * 320);
    // One trace over the budget keeps its newest spans; one span over it alone stays.
    for (const id of ["a", "b", "c", "d"])
      store.add(span("big", id, { attributes: { "db.query.text": text } }));
    expect(store.trace("big")?.map((s) => s.spanId)).toEqual(["b", "c", "d"]);
    store.add(span("huge", "h", { attributes: { blob: "y".repeat(4000) } }));
    expect(store.trace("huge")).toHaveLength(1);
    expect(store.traceCount).toBe(1);
  });

  it("keeps a long value cut, and no events, holding nothing of the original", () => {
    const store = new SpanStore({ maxSpans: 100 });
    const tracer = new BasicTracerProvider({ spanProcessors: [store] }).getTracer("test");
    const before = heapAfterGc();
    for (let n = 0; n < 20; n++) {
      const huge = `${"q".repeat(5_000_000)}${n}`;
      const span = tracer.startSpan(`op ${n}`, {
        attributes: { "db.query.text": huge, "url.query": [huge, "short"], "http.response.status_code": 500 },
      });
      span.recordException(new Error(`failed: ${huge}`));
      span.end();
    }
    // 20 spans of 3 copies of 5 M characters: 300 MB if the originals stayed reachable.
    expect(heapAfterGc() - before).toBeLessThan(20 * 2 ** 20);
    const [summary] = store.list({ limit: 1 });
    const stored = store.trace(summary?.traceId ?? "")?.[0];
    expect(stored?.attributes["db.query.text"]).toHaveLength(MAX_STORED_VALUE_CHARS);
    expect(stored?.attributes["url.query"]).toEqual(["q".repeat(MAX_STORED_VALUE_CHARS), "short"]);
    expect(stored?.attributes["http.response.status_code"]).toBe(500);
    expect(store.charCount).toBeLessThan(20 * 3 * (MAX_STORED_VALUE_CHARS + 100));
  });

  it("keeps a span without events and long values as the SDK ended it, until read", () => {
    const store = new SpanStore();
    const tracer = new BasicTracerProvider({ spanProcessors: [store] }).getTracer("test");
    const span = tracer.startSpan("GET /api/orders/:id", { attributes: { "http.route": "/api/orders/:id" } });
    span.end();
    expect(store.charCount).toBe(
      "GET /api/orders/:id".length + "http.route".length + "/api/orders/:id".length,
    );
    const [summary] = store.list();
    expect(store.trace(summary?.traceId ?? "")?.[0]?.attributes).toEqual({ "http.route": "/api/orders/:id" });
  });
});
