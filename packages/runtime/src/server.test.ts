import { Writable } from "node:stream";
import { Type } from "@sinclair/typebox";
import { afterEach, describe, expect, it } from "vitest";
import { HealthRegistry } from "./health.js";
import { createLogger } from "./logger.js";
import { HttpProblem } from "./problem.js";
import { currentContext } from "./request-context.js";
import { type App, createServer } from "./server.js";

function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: createLogger({ service: "test", instance: "t-1", destination, level: "debug" }), lines };
}

let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function build(health = new HealthRegistry(200)) {
  const { logger, lines } = memoryLogger();
  const server = createServer({ service: "test", logger, bodyLimit: 1024, health });
  app = server.app;
  app.post(
    "/things",
    {
      schema: {
        body: Type.Object({ name: Type.String({ minLength: 1 }), count: Type.Integer({ minimum: 1 }) }),
      },
    },
    async (request, reply) => reply.code(201).send({ ...request.body, context: currentContext() }),
  );
  app.get("/boom", async () => {
    throw new Error("secret internal detail");
  });
  app.get("/nul", async () => {
    // What the database throws for a NUL in a text parameter: its SQLSTATE, and the parameters.
    throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      code: "22021",
      params: ["a\u0000b", "scrypt$32768$8$1$salt$hash"],
    });
  });
  app.get("/lost", async () => {
    throw Object.assign(new Error("connection lost"), {
      code: "57P01",
      params: ["scrypt$32768$8$1$salt$hash"],
    });
  });
  app.get("/teapot", async () => {
    throw new HttpProblem({ status: 409, slug: "sku-taken", title: "SKU taken", detail: "sku ABC exists" });
  });
  return { app, lines, health };
}

describe("createServer", () => {
  it("answers validation errors with 400 problem+json naming the field", async () => {
    const { app } = build();
    const res = await app.inject({ method: "POST", url: "/things", payload: { name: "", count: 0 } });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
    const body = res.json();
    expect(body.type).toBe("https://blossom.dev/problems/validation-error");
    expect(body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(["/count", "/name"]);
  });

  it("strips unknown fields instead of passing them on", async () => {
    const { app } = build();
    const res = await app.inject({
      method: "POST",
      url: "/things",
      payload: { name: "a", count: 1, role: "admin" },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).not.toHaveProperty("role");
  });

  it("answers malformed JSON with 400, oversized bodies with 413, wrong media types with 415", async () => {
    const { app } = build();
    const bad = await app.inject({
      method: "POST",
      url: "/things",
      headers: { "content-type": "application/json" },
      payload: "{nope",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().type).toBe("https://blossom.dev/problems/malformed-body");
    const big = await app.inject({
      method: "POST",
      url: "/things",
      payload: { name: "x".repeat(5000), count: 1 },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().type).toBe("https://blossom.dev/problems/payload-too-large");
    const xml = await app.inject({
      method: "POST",
      url: "/things",
      headers: { "content-type": "application/xml" },
      payload: "<a/>",
    });
    expect(xml.statusCode).toBe(415);
  });

  it("answers a too-long path parameter with 414 and an undecodable URL with 400, both problem+json", async () => {
    const { app, lines } = build();
    app.get("/things/:id", async (request) => request.params);
    const long = await app.inject({ method: "GET", url: `/things/${"x".repeat(5000)}` });
    expect(long.statusCode).toBe(414);
    expect(long.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(long.headers["x-request-id"]).toEqual(expect.any(String));
    expect(long.json()).toMatchObject({
      type: "https://blossom.dev/problems/uri-too-long",
      status: 414,
      requestId: long.headers["x-request-id"],
    });
    // Exactly at the limit is still routed.
    expect((await app.inject({ method: "GET", url: `/things/${"x".repeat(100)}` })).statusCode).toBe(200);
    const undecodable = await app.inject({ method: "GET", url: "/things/%E0%A4%A" });
    expect(undecodable.statusCode).toBe(400);
    expect(undecodable.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(undecodable.json()).toMatchObject({
      type: "https://blossom.dev/problems/malformed-url",
      status: 400,
    });
    // Each still leaves one (short) access line.
    const access = lines.filter((line) => line.msg === "request" && line.route === "unmatched");
    expect(access.map((line) => line.status)).toEqual([414, 400]);
    expect(String(access[0]?.url).length).toBeLessThanOrEqual(200);
  });

  it("hides internal errors behind a 500 problem and logs them", async () => {
    const { app, lines } = build();
    const res = await app.inject({ method: "GET", url: "/boom" });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toMatch(/secret internal detail|at .*\.ts/);
    expect(res.json()).toMatchObject({ type: "https://blossom.dev/problems/internal-error", status: 500 });
    expect(
      lines.some((line) => (line.err as { message?: string })?.message === "secret internal detail"),
    ).toBe(true);
  });

  it("answers text the database cannot store (a NUL character) with 400, not 500", async () => {
    const { app } = build();
    const res = await app.inject({ method: "GET", url: "/nul" });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ type: "https://blossom.dev/problems/validation-error", status: 400 });
  });

  it("never logs a failed query's parameters (they may hold a password hash or a token)", async () => {
    const { app, lines } = build();
    const lost = await app.inject({ method: "GET", url: "/lost" });
    // A lost database connection is passing trouble: 503 with Retry-After, not a 500.
    expect(lost.statusCode).toBe(503);
    expect(lost.headers["retry-after"]).toBe("1");
    expect(lost.json()).toMatchObject({
      type: "https://blossom.dev/problems/service-unavailable",
      status: 503,
    });
    const logged = lines.find((line) => (line.err as { message?: string })?.message === "connection lost");
    expect(logged?.err).toMatchObject({ code: "57P01", params: "[redacted]" });
    expect(JSON.stringify(lines)).not.toContain("scrypt$");
  });

  it("answers thrown problems with their own status and type, and unknown routes with 404", async () => {
    const { app } = build();
    const res = await app.inject({ method: "GET", url: "/teapot" });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      type: "https://blossom.dev/problems/sku-taken",
      detail: "sku ABC exists",
    });
    const missing = await app.inject({ method: "GET", url: "/nowhere?x=1" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ status: 404, instance: "/nowhere" });
  });

  it("keeps the caller's request and correlation ids, echoes them, and logs one access line", async () => {
    const { app, lines } = build();
    const res = await app.inject({
      method: "POST",
      url: "/things",
      headers: { "x-request-id": "req-1", "x-correlation-id": "corr-1", traceparent: "00-abc-def-01" },
      payload: { name: "a", count: 1 },
    });
    expect(res.headers["x-request-id"]).toBe("req-1");
    expect(res.headers["x-correlation-id"]).toBe("corr-1");
    expect(res.json().context).toMatchObject({
      requestId: "req-1",
      correlationId: "corr-1",
      traceparent: "00-abc-def-01",
    });
    const access = lines.filter((line) => line.msg === "request");
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      url: "/things",
      service: "test",
      instance: "t-1",
      request_id: "req-1",
      correlation_id: "corr-1",
      status: 201,
      route: "/things",
    });
  });

  it("keeps a query's values out of the access log (finding: ?access_token=<JWT> was logged)", async () => {
    const { app, lines } = build();
    await app.inject({
      method: "POST",
      url: "/things?access_token=eyJ.secret.jwt&limit=5",
      payload: { name: "a", count: 1 },
    });
    await app.inject({ method: "GET", url: "/nowhere?access_token=eyJ.secret.jwt" });
    const access = lines.filter((line) => line.msg === "request");
    expect(access.map((line) => line.url)).toEqual([
      "/things?access_token=[redacted]&limit=5",
      "/nowhere?access_token=[redacted]",
    ]);
    expect(JSON.stringify(lines)).not.toContain("secret");
  });

  it("makes up a request id when the caller's is missing or unsafe", async () => {
    const { app } = build();
    const res = await app.inject({
      method: "GET",
      url: "/health/live",
      headers: { "x-request-id": "<script>" },
    });
    expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("is ready only when every dependency answers, and not while draining", async () => {
    let databaseUp = true;
    const health = new HealthRegistry(100);
    health.add("database", async () => {
      if (!databaseUp) throw new Error("connection refused");
    });
    health.add("bus", () => new Promise(() => {}).then(() => undefined));
    const { app } = build(health);
    const slow = await app.inject({ method: "GET", url: "/health/ready" });
    expect(slow.statusCode).toBe(503);
    expect(slow.json().checks.bus).toMatchObject({ state: "down", error: "no answer within 100 ms" });

    health.add("bus", async () => {});
    expect((await app.inject({ method: "GET", url: "/health/ready" })).statusCode).toBe(200);
    databaseUp = false;
    const down = await app.inject({ method: "GET", url: "/health/ready" });
    expect(down.json()).toMatchObject({
      status: "not-ready",
      checks: { database: { state: "down", error: "connection refused" } },
    });
    databaseUp = true;
    health.startDraining();
    expect((await app.inject({ method: "GET", url: "/health/ready" })).json().status).toBe("draining");
    expect((await app.inject({ method: "GET", url: "/health/live" })).statusCode).toBe(200);
  });

  it("finishes in-flight requests when closed", async () => {
    const { app: server } = build();
    server.get("/slow", async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { done: true };
    });
    const address = await server.listen({ port: 0, host: "127.0.0.1" });
    const pending = fetch(`${address}/slow`).then((res) => res.json());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    const closed = server.close();
    expect(await pending).toEqual({ done: true });
    await closed;
    // Closed once the request finished, not after the keep-alive timeout.
    expect(performance.now() - started).toBeLessThan(5000);
    app = undefined;
  });
});
