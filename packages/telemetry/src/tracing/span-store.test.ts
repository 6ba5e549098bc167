import { describe, expect, it } from "vitest";
import { SpanStore, type StoredSpan } from "./span-store.js";

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
});
