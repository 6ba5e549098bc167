import {
  type BlossomProcess,
  eventually,
  freePort,
  GENEROUS_USERS_LIMITS,
  spawnBlossom,
  waitForReady,
} from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReceivedSpan, startOtlpReceiver } from "./support/otlp-receiver.js";
import { type PreparedTopology, prepareTopology, SERVICES, TOPOLOGIES } from "./support/topologies.js";
import { newTraceId, tracedCheckout } from "./support/traced-checkout.js";

/**
 * Tracing across processes (issue 5's acceptance): a process per service on PostgreSQL and NATS
 * JetStream, each exporting over OTLP/HTTP (the standard OTEL_EXPORTER_OTLP_ENDPOINT) to a real
 * OTLP/JSON receiver run by this test. One checkout must be one trace, with spans from the
 * gateway and all five services' resources and parent links across the bus.
 */
const DISTRIBUTED = TOPOLOGIES.filter((topology) => topology.bus === "nats");
const SPAN_KIND = { server: 2, client: 3, producer: 4, consumer: 5 };

describe.each(DISTRIBUTED)("one trace per checkout across processes ($name)", (topology) => {
  let prepared: PreparedTopology;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const processes = new Map<string, BlossomProcess>();
  let gateway = "";

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    prepared = await prepareTopology(topology);
    const ports = Object.fromEntries(
      await Promise.all(SERVICES.map(async (service) => [service, await freePort()] as const)),
    );
    const discovery = Object.fromEntries(
      SERVICES.map((service) => [`${service.toUpperCase()}_URL`, `http://127.0.0.1:${ports[service]}`]),
    );
    const gatewayPort = await freePort();
    gateway = `http://127.0.0.1:${gatewayPort}`;
    const common = {
      ...prepared.env,
      ...discovery,
      // Info: the access and event lines are part of what this test checks.
      LOG_LEVEL: "info",
      BLOSSOM_SEED: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: "200",
      GATEWAY_RATE_LIMIT_PER_MINUTE: "100000",
      GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE: "100000",
      ...GENEROUS_USERS_LIMITS,
    };
    for (const service of SERVICES) {
      const databaseUrl = prepared.env[`${service.toUpperCase()}_DATABASE_URL`] ?? "";
      const env: Record<string, string> = { ...common, PORT: String(ports[service]) };
      for (const other of SERVICES) delete env[`${other.toUpperCase()}_DATABASE_URL`];
      if (databaseUrl) env.DATABASE_URL = databaseUrl;
      processes.set(service, spawnBlossom(["start", service], env));
    }
    processes.set(
      "gateway",
      spawnBlossom(["start", "gateway"], { ...common, PORT: String(gatewayPort), GATEWAY_METRICS_PORT: "0" }),
    );
    await Promise.all([...processes.values()].map((process_) => waitForReady(process_, 90_000)));
  }, 120_000);

  afterAll(async () => {
    for (const process_ of processes.values()) process_.child.kill("SIGTERM");
    await Promise.all([...processes.values()].map((process_) => process_.exited));
    await prepared?.destroy();
    await receiver?.close();
  });

  it("exports one trace with spans from the gateway and all five services, linked across the bus", async () => {
    const traceId = newTraceId();
    const { customer, order } = await tracedCheckout(gateway, traceId);
    expect((await customer.settled(order.id, 20_000)).status).toBe("confirmed");

    const spans = await eventually(
      async () => {
        const found = receiver.spans.filter((span) => span.traceId === traceId);
        const mailed = found.some(
          (span) => span.serviceName === "notifications" && span.name === "orders.order-confirmed.v1 process",
        );
        // Each process exports on its own schedule: a consumer's span can reach the receiver
        // before the publisher's batch with its parent does. Wait for every parent too.
        const ids = new Set(found.map((span) => span.spanId));
        const orphans = found.filter(
          (span) => span.kind === SPAN_KIND.consumer && !ids.has(span.parentSpanId),
        );
        return mailed && orphans.length === 0 ? found : undefined;
      },
      20_000,
      "the checkout's spans at the OTLP receiver",
    );
    const services = new Set(spans.map((span) => span.serviceName));
    expect([...services].sort()).toEqual(["gateway", ...SERVICES].sort());
    // Each process is its own resource, and names its spans' service the same way.
    for (const span of spans)
      expect(span.attributes["blossom.service"] ?? span.serviceName).toBe(span.serviceName);

    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId);
    // The bus: every process span's parent is the create span of the same event, exported by
    // the process that published it.
    const consumers = spans.filter((span) => span.kind === SPAN_KIND.consumer);
    expect(consumers.length).toBeGreaterThanOrEqual(5);
    for (const span of consumers) {
      const type = String(span.attributes["messaging.destination.name"]);
      expect(span.name).toBe(`${type} process`);
      expect(span.attributes["messaging.system"]).toBe("nats");
      expect(parentOf(span), `parent of ${span.name} in ${span.serviceName}`).toMatchObject({
        kind: SPAN_KIND.producer,
        name: `${type} create`,
        serviceName: type.split(".")[0],
      });
    }
    const crossings = consumers.filter((span) => parentOf(span)?.serviceName !== span.serviceName);
    expect(new Set(crossings.map((span) => span.serviceName))).toEqual(
      new Set(["inventory", "orders", "payments", "notifications"]),
    );
    // HTTP: the gateway's proxy call is the parent of the orders service's request span.
    const ordersRequest = spans.find(
      (span) => span.serviceName === "orders" && span.name === "POST /api/orders",
    );
    expect(ordersRequest && parentOf(ordersRequest)).toMatchObject({
      serviceName: "gateway",
      kind: SPAN_KIND.client,
    });
    // pg, loaded by the store from ESM, is instrumented: the orders service's queries are spans.
    expect(
      spans.some(
        (span) => span.serviceName === "orders" && span.attributes["db.system.name"] === "postgresql",
      ),
    ).toBe(true);
    // No secret in any attribute: the card number, the password, the access token.
    const attributes = JSON.stringify(spans.map((span) => span.attributes));
    for (const secret of ["4242424242424242", "correct horse", customer.tokens.accessToken, "Bearer "])
      expect(attributes).not.toContain(secret);

    // Logs: the orders service's access line for the order and notifications' line for the
    // event it handled carry this trace's id and their span's id.
    const lines = (name: string) =>
      (processes.get(name)?.output() ?? "")
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const access = lines("orders").find(
      (line) => line.msg === "request" && line.route === "/api/orders" && line.trace_id === traceId,
    );
    expect(access).toMatchObject({
      service: "orders",
      span_id: ordersRequest?.spanId,
      user_id: expect.any(String),
    });
    const confirmedMail = consumers.find(
      (span) => span.serviceName === "notifications" && span.name === "orders.order-confirmed.v1 process",
    );
    expect(
      lines("notifications").find(
        (line) =>
          line.msg === "event" &&
          line.event_type === "orders.order-confirmed.v1" &&
          line.trace_id === traceId,
      ),
    ).toMatchObject({ span_id: confirmedMail?.spanId });
  });
});
