import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createLogger, createServer } from "@blossom/runtime";
import { currentTracing, type StoredSpan, startTracing, type TraceSummary } from "@blossom/telemetry";
import { callHttp, eventually } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "./support/embedded-platform.js";
import { ShopClient } from "./support/shop-client.js";
import { newTraceId, tracedCheckout } from "./support/traced-checkout.js";

/**
 * Tracing on the embedded default (issue 5): one checkout is one trace, from the gateway
 * through orders, inventory, payments and notifications, across the in-process bus; the spans
 * are read back where an admin reads them, at `GET /api/ops/traces/:traceId`.
 *
 * Tracing starts before the platform's modules are loaded (as the `blossom` bootstrap does),
 * hence the dynamic import of the test platform below.
 */
const ADMIN_PASSWORD = "tracing admin password";
const SERVICES = ["users", "inventory", "orders", "payments", "notifications"];

let platform: TestPlatform;
let admin: ShopClient;
beforeAll(async () => {
  await startTracing({ serviceName: "blossom", version: "test", environment: "test", env: {} });
  const { startTestPlatform } = await import("./support/embedded-platform.js");
  platform = await startTestPlatform({ BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD });
  admin = await ShopClient.logIn(platform.gateway, "admin@blossom.local", ADMIN_PASSWORD);
}, 120_000);
afterAll(async () => {
  await platform?.destroy();
});

/** A W3C traceparent for a new trace, as a traced client would send it. */
function newTraceparent(): { traceId: string; header: string } {
  const traceId = randomBytes(16).toString("hex");
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
}

async function traceSpans(traceId: string): Promise<StoredSpan[]> {
  const answer = await admin.send<{ spans: StoredSpan[] }>("GET", `/api/ops/traces/${traceId}`);
  if (answer.status !== 200) throw new Error(`GET trace: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.spans;
}

describe("one trace per checkout (embedded default)", () => {
  it("spans the gateway and every service, with each process span a child of the span that published", async () => {
    const traceId = newTraceId();
    const { customer, order } = await tracedCheckout(platform.gateway, traceId);
    expect((await customer.settled(order.id)).status).toBe("confirmed");

    // The saga ends with notifications mailing the confirmation: wait until its span is in.
    const spans = await eventually(
      async () => {
        const found = await traceSpans(traceId);
        const services = new Set(found.map((span) => span.service));
        const mailed = found.some(
          (span) => span.service === "notifications" && span.name === "orders.order-confirmed.v1 process",
        );
        return mailed && SERVICES.every((service) => services.has(service)) ? found : undefined;
      },
      15_000,
      "the checkout's trace to reach notifications",
    );

    expect(spans.every((span) => span.traceId === traceId)).toBe(true);
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    // The gateway's request span and the orders service's, its child through the proxy call.
    const gatewaySpan = spans.find(
      (span) =>
        span.service === "gateway" && span.kind === "server" && span.attributes["url.path"] === "/api/orders",
    );
    expect(gatewaySpan?.name).toBe("POST /*");
    const ordersSpan = spans.find((span) => span.service === "orders" && span.kind === "server");
    expect(ordersSpan?.name).toBe("POST /api/orders");
    expect(ordersSpan?.attributes["http.route"]).toBe("/api/orders");
    const proxyCall = ordersSpan?.parentSpanId ? byId.get(ordersSpan.parentSpanId) : undefined;
    expect(proxyCall).toMatchObject({ kind: "client", service: "gateway" });

    // Every process span continues the trace from the create span of the event it handles.
    const processSpans = spans.filter((span) => span.kind === "consumer");
    expect(processSpans.length).toBeGreaterThanOrEqual(4);
    for (const span of processSpans) {
      const type = span.attributes["messaging.destination.name"];
      expect(span.name).toBe(`${type} process`);
      expect(span.attributes).toMatchObject({
        "messaging.system": "blossom-memory",
        "messaging.operation.type": "process",
        "blossom.service": span.service,
      });
      const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
      expect(parent, `parent of ${span.name} in ${span.service}`).toMatchObject({
        kind: "producer",
        name: `${type} create`,
        attributes: expect.objectContaining({
          "messaging.message.id": span.attributes["messaging.message.id"],
        }),
      });
    }
    // Across services: inventory handles what orders published, payments and notifications too.
    const parentService = (consumer: string, type: string) => {
      const span = processSpans.find((s) => s.service === consumer && s.name === `${type} process`);
      return span?.parentSpanId ? byId.get(span.parentSpanId)?.service : undefined;
    };
    expect(parentService("inventory", "orders.order-placed.v1")).toBe("orders");
    expect(parentService("orders", "inventory.stock-reserved.v1")).toBe("inventory");
    expect(parentService("notifications", "orders.order-confirmed.v1")).toBe("orders");
    expect(parentService("notifications", "users.user-registered.v1")).toBe("users");
    expect(processSpans.some((span) => span.service === "payments")).toBe(true);
    // The relay's send spans hang off the same create spans.
    const sends = spans.filter((span) => span.kind === "producer" && span.name.endsWith(" send"));
    expect(sends.length).toBeGreaterThan(0);
    for (const send of sends) expect(byId.get(send.parentSpanId ?? "")?.name).toMatch(/ create$/);

    // No secret became an attribute: the card number, the password, the access token.
    const attributes = JSON.stringify(spans.map((span) => span.attributes));
    for (const secret of ["4242424242424242", "correct horse", customer.tokens.accessToken, "Bearer "])
      expect(attributes).not.toContain(secret);

    // The list finds it, per service, with its root and all six lanes.
    const list = await admin.send<{ items: TraceSummary[] }>(
      "GET",
      "/api/ops/traces?service=notifications&limit=100",
    );
    expect(list.status).toBe(200);
    const summary = list.body.items.find((item) => item.traceId === traceId);
    expect(summary?.services).toEqual(["gateway", ...SERVICES].sort());
    expect(summary?.spanCount).toBeGreaterThanOrEqual(spans.length);
    expect(summary?.rootName).toMatch(/^POST /);
  });

  it("serves traces to admins only: 401 anonymous, 403 for a customer, 404 for an unknown trace", async () => {
    expect((await callHttp(platform.gateway, "GET", "/api/ops/traces")).status).toBe(401);
    const customer = await ShopClient.signUp(platform.gateway, "Curious");
    expect((await customer.send("GET", "/api/ops/traces")).status).toBe(403);
    const unknown = await admin.send("GET", `/api/ops/traces/${"0".repeat(31)}1`);
    expect(unknown.status).toBe(404);
    expect((await admin.send("GET", "/api/ops/traces/not-a-trace-id")).status).toBe(400);
  });

  it("records a failed request's error on its span without the caller's secrets", async () => {
    const { traceId, header } = newTraceparent();
    const refused = await callHttp(platform.gateway, "POST", "/api/auth/login", {
      body: { email: "nobody@example.com", password: "hunter2 secret" },
      headers: { traceparent: header },
    });
    expect(refused.status).toBe(401);
    const spans = await eventually(
      async () => {
        const found = await traceSpans(traceId).catch(() => []);
        return found.some((span) => span.service === "users" && span.kind === "server") ? found : undefined;
      },
      5000,
      "the login's spans",
    );
    // A client's mistake is not a server failure: no exception recorded, status not error.
    const users = spans.find((span) => span.service === "users" && span.kind === "server");
    expect(users?.status).toBe("unset");
    expect(users?.attributes["http.response.status_code"]).toBe(401);
    expect(JSON.stringify(spans)).not.toContain("hunter2");
  });
});

describe("log correlation", () => {
  it("stamps every line of a traced request with the trace's trace_id and span_id, and the user's id", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const { app } = createServer({
      service: "logtest",
      logger: createLogger({ service: "logtest", instance: "t-1", destination }),
    });
    app.addHook("onRequest", async (request) => {
      // What authentication leaves on a request with a valid user token.
      (request as unknown as { principal: { userId: string } }).principal = { userId: "user-42" };
    });
    app.get("/api/logtest/things/:id", async (request) => {
      request.log.info("handling");
      return { ok: true };
    });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const { traceId, header } = newTraceparent();
      const answer = await fetch(`${url}/api/logtest/things/7`, { headers: { traceparent: header } });
      expect(answer.status).toBe(200);
      const span = await eventually(
        async () =>
          currentTracing()
            ?.spanStore?.trace(traceId)
            ?.find((s) => s.service === "logtest"),
        5000,
        "the request's span",
      );
      expect(span.name).toBe("GET /api/logtest/things/:id");
      const own = lines.filter((line) => line.msg === "handling" || line.msg === "request");
      expect(own.map((line) => line.msg)).toEqual(["handling", "request"]);
      for (const line of own)
        expect(line).toMatchObject({
          service: "logtest",
          instance: "t-1",
          trace_id: traceId,
          span_id: span.spanId,
          user_id: "user-42",
          request_id: expect.any(String),
          correlation_id: expect.any(String),
        });
    } finally {
      await app.close();
    }
  });

  it("records a server failure (5xx) on the request's span: status error and error.type", async () => {
    const { app } = createServer({
      service: "failtest",
      logger: createLogger({ service: "failtest", level: "silent" }),
    });
    app.get("/api/failtest/boom", async () => {
      throw Object.assign(new Error("internal error"), { code: "XX000" });
    });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const { traceId, header } = newTraceparent();
      expect((await fetch(`${url}/api/failtest/boom`, { headers: { traceparent: header } })).status).toBe(
        500,
      );
      const span = await eventually(
        async () =>
          currentTracing()
            ?.spanStore?.trace(traceId)
            ?.find((s) => s.service === "failtest"),
        5000,
        "the failed request's span",
      );
      expect(span).toMatchObject({
        name: "GET /api/failtest/boom",
        status: "error",
        attributes: expect.objectContaining({ "error.type": "XX000", "http.response.status_code": 500 }),
      });
    } finally {
      await app.close();
    }
  });
});
