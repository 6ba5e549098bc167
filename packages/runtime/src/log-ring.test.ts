import { Writable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { LogRing, MAX_LOG_LINE_CHARS } from "./log-ring.js";
import { createLogger } from "./logger.js";

/** Heap used after a full collection (gc exposed at run time when node was not started with --expose-gc). */
function heapAfterGc(): number {
  if (!globalThis.gc) setFlagsFromString("--expose-gc");
  const gc = (globalThis.gc ?? runInNewContext("gc")) as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

describe("LogRing", () => {
  it("keeps what the logger wrote, redacted: secrets never enter it", () => {
    const ring = new LogRing();
    const logger = createLogger({ service: "users", instance: "i-1", ring, destination: discard });
    logger.info(
      { body: { password: "hunter2", cardNumber: "4242424242424242" }, token: "abc.def" },
      "signed up",
    );
    const [line] = ring.query({ limit: 10 });
    expect(line).toMatchObject({
      service: "users",
      instance: "i-1",
      level: "info",
      msg: "signed up",
      seq: 1,
    });
    const text = JSON.stringify(line);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("4242424242424242");
    expect(text).not.toContain("abc.def");
    expect(text).toContain("[redacted]");
  });

  it("only takes the lines the logger's level lets through", () => {
    const ring = new LogRing();
    const logger = createLogger({ service: "orders", level: "warn", ring, destination: discard });
    logger.info("quiet");
    logger.warn("loud");
    expect(ring.query({ limit: 10 }).map((line) => line.msg)).toEqual(["loud"]);
  });

  it("filters by service, level, trace id, order id, time, and tails after a sequence number", () => {
    const ring = new LogRing();
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const orders = createLogger({ service: "orders", level: "debug", ring, destination: discard });
    const payments = createLogger({ service: "payments", level: "debug", ring, destination: discard });
    orders.debug("starting");
    orders.warn({ order_id: "o-17" }, "deadline passed");
    payments.error({ trace_id: traceId, url: "/api/payments/o-17" }, "card declined");
    payments.info("idle");
    expect(ring.query({ limit: 10, service: "payments" }).map((line) => line.msg)).toEqual([
      "card declined",
      "idle",
    ]);
    expect(ring.query({ limit: 10, level: "warn" }).map((line) => line.msg)).toEqual([
      "deadline passed",
      "card declined",
    ]);
    expect(ring.query({ limit: 10, traceId }).map((line) => line.msg)).toEqual(["card declined"]);
    expect(ring.query({ limit: 10, orderId: "o-17" }).map((line) => line.msg)).toEqual([
      "deadline passed",
      "card declined",
    ]);
    expect(ring.query({ limit: 10, after: 2 }).map((line) => line.seq)).toEqual([3, 4]);
    expect(ring.query({ limit: 10, after: ring.lastSeq })).toEqual([]);
    expect(ring.query({ limit: 2 }).map((line) => line.msg)).toEqual(["card declined", "idle"]);
    expect(ring.query({ limit: 10, since: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
  });

  it("is bounded by lines and by characters, oldest dropped first; a huge line is cut", () => {
    const ring = new LogRing({ maxLines: 5, maxBytes: 2000 });
    for (let n = 1; n <= 3000; n++)
      ring.write(`{"level":"info","time":"2026-01-01T00:00:00.000Z","msg":"line ${n}"}\n`);
    expect(ring.size).toBe(5);
    expect(ring.query({ limit: 10 }).map((line) => line.msg)).toEqual([
      "line 2996",
      "line 2997",
      "line 2998",
      "line 2999",
      "line 3000",
    ]);
    ring.write(`{"level":"warn","service":"gateway","msg":"big","blob":"${"x".repeat(20_000)}"}\n`);
    const [big] = ring.query({ limit: 1 });
    expect(big).toMatchObject({ level: "warn", service: "gateway", msg: "big", truncated: true });
    expect(ring.size).toBe(1);
  });

  it("keeps nothing of a huge line but its cut", () => {
    const ring = new LogRing({ maxLines: 100, maxBytes: 10 * 2 ** 20 });
    const before = heapAfterGc();
    for (let n = 0; n < 20; n++)
      ring.write(`{"level":"info","msg":"big","blob":"${"x".repeat(5_000_000)}${n}"}\n`);
    // 20 lines of 5 MB: 100 MB if each cut kept its whole line reachable (a slice is a view).
    expect(heapAfterGc() - before).toBeLessThan(20 * 2 ** 20);
    expect(ring.size).toBe(20);
    expect(ring.query({ limit: 1 })[0]?.fields.text).toHaveLength(MAX_LOG_LINE_CHARS);
  });

  it("holds nothing of the lines it dropped", () => {
    const ring = new LogRing({ maxLines: 10, maxBytes: 10 * 2 ** 20 });
    const before = heapAfterGc();
    for (let n = 0; n < 1_000; n++)
      ring.write(`{"level":"info","msg":"line ${n}","blob":"${"x".repeat(8_000)}"}\n`);
    // 990 dropped lines of 8 KB: 8 MB if their slots kept them until the next compaction.
    expect(heapAfterGc() - before).toBeLessThan(2 * 2 ** 20);
    expect(ring.size).toBe(10);
    expect(ring.query({ limit: 20 }).map((line) => line.msg)).toEqual(
      Array.from({ length: 10 }, (_, index) => `line ${990 + index}`),
    );
  });
});
