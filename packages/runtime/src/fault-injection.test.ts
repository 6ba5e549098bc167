import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { FaultInjection } from "./fault-injection.js";
import { createLogger } from "./logger.js";
import { PROBLEM_CONTENT_TYPE } from "./problem.js";
import { type App, createServer } from "./server.js";

const silent = new Writable({ write: (_chunk, _encoding, callback) => callback() });

let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function build(faults?: FaultInjection): App {
  const logger = createLogger({ service: "test", instance: "t-1", destination: silent, level: "silent" });
  app = createServer({ service: "test", logger, ...(faults ? { faults } : {}) }).app;
  app.get("/things", async () => ({ ok: true }));
  return app;
}

describe("fault injection", () => {
  it("answers the error share with 503 injected-fault problem+json, and handles the rest", async () => {
    // Dice that alternate: 0.01 (< 0.5, fault), 0.99 (handled).
    let roll = 0;
    const server = build({ latencyMs: 0, errorRate: 0.5, random: () => (roll++ % 2 === 0 ? 0.01 : 0.99) });
    const failed = await server.inject({ method: "GET", url: "/things" });
    expect(failed.statusCode).toBe(503);
    expect(failed.headers["content-type"]).toContain(PROBLEM_CONTENT_TYPE);
    expect(failed.json()).toMatchObject({ status: 503, type: "https://blossom.dev/problems/injected-fault" });
    expect(failed.headers["x-request-id"]).toBeDefined();
    const served = await server.inject({ method: "GET", url: "/things" });
    expect(served.statusCode).toBe(200);
    expect(served.json()).toEqual({ ok: true });
  });

  it("delays every request by the latency", async () => {
    const server = build({ latencyMs: 120, errorRate: 0 });
    const started = performance.now();
    const answer = await server.inject({ method: "GET", url: "/things" });
    expect(answer.statusCode).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it("leaves the health probes alone even at an error rate of 1", async () => {
    const server = build({ latencyMs: 0, errorRate: 1 });
    expect((await server.inject({ method: "GET", url: "/things" })).statusCode).toBe(503);
    expect((await server.inject({ method: "GET", url: "/health/live" })).statusCode).toBe(200);
    expect((await server.inject({ method: "GET", url: "/health/ready" })).statusCode).toBe(200);
  });

  it("adds nothing when no fault is set", async () => {
    const server = build({ latencyMs: 0, errorRate: 0, random: () => 0 });
    for (let index = 0; index < 20; index += 1)
      expect((await server.inject({ method: "GET", url: "/things" })).statusCode).toBe(200);
  });
});
