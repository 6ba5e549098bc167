import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { propagationHeaders } from "./request-context.js";
import { parseRequestTimeout, remainingBudgetMs } from "./request-deadline.js";
import { type App, createServer } from "./server.js";

let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A server whose one route counts the times it acted; `queueMs` holds each request before it. */
function build(queueMs = 0) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const logger = createLogger({ service: "test", instance: "t-1", destination, level: "info" });
  const server = createServer({ service: "test", logger });
  app = server.app;
  const acted = { count: 0, queuedMs: 0 };
  // Stands for the time a request spends queued before its handler (event loop, socket, pool).
  // What it actually waited is measured on the deadline's own clock (Date.now): a timer may
  // fire a millisecond early on that clock, so the test must not assume exactly `queueMs`.
  if (queueMs > 0)
    app.addHook("onRequest", async () => {
      const start = Date.now();
      await new Promise<void>((resolve) => setTimeout(resolve, queueMs));
      acted.queuedMs = Date.now() - start;
    });
  app.post("/work", async () => {
    acted.count++;
    return { left: remainingBudgetMs(), forwarded: propagationHeaders()["x-request-timeout"] ?? null };
  });
  return { app, acted, lines };
}

describe("request deadlines (x-request-timeout)", () => {
  it("refuses, 503 with Retry-After and without acting, a request whose budget ran out while it queued", async () => {
    const { app, acted, lines } = build(120);
    const res = await app.inject({ method: "POST", url: "/work", headers: { "x-request-timeout": "50" } });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(res.json().type).toBe("https://blossom.dev/problems/deadline-exceeded");
    expect(acted.count).toBe(0);
    // Shedding is the design working, not a fault: an info line, no stack.
    const shed = lines.find((line) => line.msg === "request shed");
    expect(shed).toMatchObject({ level: "info" });
    expect(JSON.stringify(shed)).not.toContain("at ");
  });

  it("runs a request within its budget, and sends on what is left of it to the next service", async () => {
    const { app, acted } = build(20);
    const res = await app.inject({ method: "POST", url: "/work", headers: { "x-request-timeout": "5000" } });
    expect(res.statusCode).toBe(200);
    expect(acted.count).toBe(1);
    const { left, forwarded } = res.json() as { left: number; forwarded: string };
    expect(acted.queuedMs).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(5000 - acted.queuedMs);
    expect(left).toBeGreaterThan(3000);
    expect(Number(forwarded)).toBeLessThanOrEqual(left);
    expect(Number(forwarded)).toBeGreaterThan(3000);
  });

  it("without a budget (or with a malformed one), has no deadline and forwards none", async () => {
    const { app, acted } = build(20);
    for (const headers of [{}, { "x-request-timeout": "soon" }, { "x-request-timeout": "-5" }]) {
      const res = await app.inject({ method: "POST", url: "/work", headers });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ forwarded: null });
    }
    expect(acted.count).toBe(3);
  });

  it("reads whole milliseconds only, capped at five minutes", () => {
    expect(parseRequestTimeout("1500")).toBe(1500);
    expect(parseRequestTimeout("0")).toBe(0);
    expect(parseRequestTimeout("999999999")).toBe(300_000);
    expect(parseRequestTimeout(["250", "900"])).toBe(250);
    for (const bad of [undefined, "", "1.5", "1e3", " 100", "0x10", "1234567890"])
      expect(parseRequestTimeout(bad)).toBeUndefined();
  });
});
