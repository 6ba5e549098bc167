import { context, trace } from "@opentelemetry/api";
import { beforeAll, describe, expect, it } from "vitest";
import { traceEventCreation, traceEventProcessing, traceEventPublish } from "./messaging-spans.js";
import type { SpanStore } from "./span-store.js";
import { startTracing } from "./start-tracing.js";
import { activeTraceIds } from "./trace-context.js";

let spans: SpanStore;
beforeAll(async () => {
  const tracing = await startTracing({
    serviceName: "blossom",
    version: "test",
    environment: "test",
    env: {},
  });
  if (!tracing.spanStore) throw new Error("no span store");
  spans = tracing.spanStore;
});

describe("trace context through an event envelope", () => {
  it("survives the outbox (JSON) and makes the consumer's process span a child of the create span", async () => {
    const request = trace.getTracer("test").startSpan("POST /api/orders");
    const requestIds = request.spanContext();
    const carrier = context.with(trace.setSpan(context.active(), request), () =>
      traceEventCreation({ id: "evt-1", type: "orders.order-placed.v1" }, "orders", "nats"),
    );
    request.end();
    expect(carrier.traceparent).toMatch(new RegExp(`^00-${requestIds.traceId}-[0-9a-f]{16}-01$`));
    // Stored as JSON in the outbox row, published as is.
    const envelope = JSON.parse(JSON.stringify({ id: "evt-1", type: "orders.order-placed.v1", ...carrier }));

    await traceEventPublish([envelope], "orders", "nats", async () => {});
    const seen = await traceEventProcessing(envelope, "inventory", "nats", 2, async () => activeTraceIds());

    const all = spans.trace(requestIds.traceId) ?? [];
    const create = all.find((s) => s.name === "orders.order-placed.v1 create");
    const send = all.find((s) => s.name === "orders.order-placed.v1 send");
    const process = all.find((s) => s.name === "orders.order-placed.v1 process");
    expect(create).toMatchObject({ kind: "producer", parentSpanId: requestIds.spanId, service: "orders" });
    expect(send).toMatchObject({ kind: "producer", parentSpanId: create?.spanId, service: "orders" });
    expect(process).toMatchObject({
      kind: "consumer",
      parentSpanId: create?.spanId,
      service: "inventory",
      attributes: {
        "messaging.system": "nats",
        "messaging.destination.name": "orders.order-placed.v1",
        "messaging.message.id": "evt-1",
        "messaging.operation.type": "process",
        "messaging.consumer.group.name": "inventory",
        "messaging.message.delivery_attempt": 2,
        "blossom.service": "inventory",
      },
    });
    // The handler ran inside the process span: its log lines get these ids.
    expect(seen).toEqual({ trace_id: requestIds.traceId, span_id: process?.spanId });
  });

  it("records a failing handler's error on the process span and rethrows it", async () => {
    const carrier = traceEventCreation(
      { id: "evt-2", type: "payments.payment-declined.v1" },
      "payments",
      "nats",
    );
    const failure = Object.assign(new Error("deadlock detected"), { code: "40P01" });
    await expect(
      traceEventProcessing(
        { id: "evt-2", type: "payments.payment-declined.v1", ...carrier },
        "orders",
        "nats",
        1,
        () => Promise.reject(failure),
      ),
    ).rejects.toBe(failure);
    const traceId = carrier.traceparent?.split("-")[1] ?? "";
    const process = spans.trace(traceId)?.find((s) => s.kind === "consumer");
    expect(process).toMatchObject({
      status: "error",
      attributes: expect.objectContaining({ "error.type": "40P01" }),
    });
  });

  it("without a current span, starts from the caller's traceparent it was given", () => {
    const given = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const carrier = traceEventCreation(
      { id: "evt-3", type: "users.user-registered.v1" },
      "users",
      undefined,
      {
        traceparent: given,
      },
    );
    expect(carrier.traceparent).toMatch(
      /^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-01$/,
    );
    const create = spans.trace("0af7651916cd43dd8448eb211c80319c")?.[0];
    expect(create).toMatchObject({
      parentSpanId: "b7ad6b7169203331",
      name: "users.user-registered.v1 create",
    });
  });
});
