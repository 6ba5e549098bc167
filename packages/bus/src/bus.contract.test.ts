import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { eventually, testAdapters } from "@blossom/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEnvelope, type EventEnvelope, type NewEvent } from "./envelope.js";
import type { DeliveryInfo, EventBus } from "./event-bus.js";
import { resolveBus } from "./resolve-bus.js";

// One suite for every adapter: `npm test` runs the embedded one, CI adds
// BLOSSOM_TEST_ADAPTERS=nats against a real server (unreachable = failed, never skipped).
const adapters = testAdapters();

const PLACED = "orders.order-placed.v1";
const CANCELLED = "orders.order-cancelled.v1";
const CAPTURED = "payments.payment-captured.v1";

function event(
  type: string,
  subject: string,
  data: unknown = {},
  extra: Partial<NewEvent> = {},
): EventEnvelope {
  return createEnvelope("contract-test", { type, subject, data, ...extra });
}

function latch(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe.each(adapters.bus)("EventBus contract: %s", (kind) => {
  let prefix = "";
  let opened: EventBus[] = [];

  beforeEach(() => {
    prefix = `t${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    opened = [];
  });

  afterEach(async () => {
    await Promise.all(opened.map((bus) => bus.close()));
    if (kind === "nats") {
      const { NatsBus } = await import("./nats/nats-bus.js");
      const admin = await NatsBus.connect({ url: adapters.natsUrl, prefix });
      await admin.destroyStreams();
      await admin.close();
    }
  });

  /** A bus of this adapter; on nats every bus of one test shares the test's prefix (= "processes"). */
  async function open(): Promise<EventBus> {
    const bus = await resolveBus(
      kind === "nats" ? { natsUrl: adapters.natsUrl, prefix, name: "contract" } : {},
    );
    opened.push(bus);
    return bus;
  }

  it("resolves to this adapter and answers ping", async () => {
    const bus = await open();
    expect(bus.kind).toBe(kind);
    await expect(bus.ping()).resolves.toBeUndefined();
  });

  it("delivers a published event to each subscribed consumer", async () => {
    const bus = await open();
    const seen: Record<string, string[]> = { billing: [], shipping: [] };
    for (const consumer of ["billing", "shipping"]) {
      await bus.subscribe(consumer, [PLACED], async (received) => {
        seen[consumer]?.push(received.id);
      });
    }
    const placed = event(PLACED, "order-1");
    await bus.publish([placed]);
    await eventually(
      () => seen.billing?.length === 1 && seen.shipping?.length === 1,
      5_000,
      "both consumers",
    );
    expect(seen).toEqual({ billing: [placed.id], shipping: [placed.id] });
  });

  it("shares the work between subscriptions of one consumer name: each event once in total", async () => {
    const bus = await open();
    const handled: string[] = [];
    const record = async (received: EventEnvelope): Promise<void> => {
      handled.push(received.id);
    };
    await bus.subscribe("billing", [PLACED], record);
    await bus.subscribe("billing", [PLACED], record);
    const events = Array.from({ length: 20 }, (_, n) => event(PLACED, `order-${n}`));
    await bus.publish(events);
    await eventually(() => handled.length >= events.length, 5_000, "20 deliveries");
    await sleep(150); // a duplicate would show up now
    expect(handled.sort()).toEqual(events.map((e) => e.id).sort());
  });

  it("keeps per-subject order while handling subjects concurrently", async () => {
    const bus = await open();
    const bySubject = new Map<string, number[]>();
    let active = 0;
    let maxActive = 0;
    await bus.subscribe(
      "ledger",
      [PLACED],
      async (received) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(Math.random() * 4);
        const { n } = received.data as { n: number };
        bySubject.set(received.subject, [...(bySubject.get(received.subject) ?? []), n]);
        active--;
      },
      { concurrency: 5 },
    );
    const events = Array.from({ length: 50 }, (_, n) => event(PLACED, `order-${n % 5}`, { n }));
    await bus.publish(events);
    await eventually(() => [...bySubject.values()].flat().length === 50, 5_000, "50 deliveries");
    for (const [subject, numbers] of bySubject) {
      const published = events.filter((e) => e.subject === subject).map((e) => (e.data as { n: number }).n);
      expect(numbers, subject).toEqual(published);
    }
    expect(maxActive).toBeGreaterThan(1);
  });

  it("redelivers after a throw, with increasing attempts and the backoff in between", async () => {
    const bus = await open();
    const attempts: Array<{ attempt: number; at: number }> = [];
    await bus.subscribe(
      "billing",
      [PLACED],
      async (_received, info) => {
        attempts.push({ attempt: info.attempt, at: performance.now() });
        if (info.attempt < 3) throw new Error(`attempt ${info.attempt} fails`);
      },
      { maxDeliver: 5, backoffMs: [20, 40] },
    );
    await bus.publish([event(PLACED, "order-1")]);
    await eventually(() => attempts.length === 3, 5_000, "three attempts");
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    const [first, second, third] = attempts.map((a) => a.at) as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(18);
    expect(third - second).toBeGreaterThanOrEqual(38);
    await sleep(100);
    expect(attempts).toHaveLength(3); // acked: no more deliveries
  });

  it("dead-letters after maxDeliver attempts, with the error, and stops delivering", async () => {
    const bus = await open();
    let calls = 0;
    await bus.subscribe(
      "billing",
      [PLACED],
      async () => {
        calls++;
        throw new Error("boom: card declined");
      },
      { maxDeliver: 3, backoffMs: [10] },
    );
    const placed = event(PLACED, "order-1", { total: 42 });
    await bus.publish([placed]);
    await eventually(async () => (await bus.deadLetters("billing")).length === 1, 5_000, "a dead letter");
    const [dead] = await bus.deadLetters("billing");
    expect(dead).toMatchObject({ consumer: "billing", attempts: 3, event: placed });
    expect(dead?.error).toContain("boom: card declined");
    expect(Number.isNaN(Date.parse(dead?.at ?? ""))).toBe(false);
    await sleep(100);
    expect(calls).toBe(3);
    expect(await bus.deadLetters("shipping")).toEqual([]);
  });

  it("reports the events owed to a consumer as its lag, and each dead letter to onDeadLetter", async () => {
    const bus = await open();
    const gate = latch();
    const reported: string[] = [];
    const subscription = await bus.subscribe(
      "billing",
      [PLACED],
      async (received) => {
        await gate.promise;
        if (received.subject === "order-bad") throw new Error("cannot bill this one");
      },
      { maxDeliver: 1, onDeadLetter: (dead) => reported.push(dead.event.id) },
    );
    expect(await subscription.lag()).toBe(0);
    const events = [event(PLACED, "order-1"), event(PLACED, "order-2"), event(PLACED, "order-bad")];
    // Memory resolves a publish only once it is handled: wait for it after opening the gate.
    const published = bus.publish(events);
    await eventually(
      async () => (await subscription.lag()) === 3,
      5_000,
      "a lag of 3 while the handlers wait",
    );
    gate.open();
    await published;
    await eventually(async () => (await subscription.lag()) === 0, 5_000, "no lag once handled");
    await eventually(() => reported.length === 1, 5_000, "the dead letter reported");
    expect(reported).toEqual([events[2]?.id]);
  });

  it("dead-letters at once when the handler's error is not retryable (a contract violation)", async () => {
    const bus = await open();
    let calls = 0;
    await bus.subscribe(
      "billing",
      [PLACED],
      async () => {
        calls++;
        throw Object.assign(new Error("data does not match its contract"), { retryable: false });
      },
      { maxDeliver: 5, backoffMs: [10] },
    );
    await bus.publish([event(PLACED, "order-1", { total: "not a number" })]);
    await eventually(async () => (await bus.deadLetters("billing")).length === 1, 5_000, "a dead letter");
    await sleep(100);
    expect(calls).toBe(1);
    expect((await bus.deadLetters("billing"))[0]).toMatchObject({
      attempts: 1,
      error: "data does not match its contract",
    });
  });

  it("lists dead letters oldest first, up to the limit", async () => {
    const bus = await open();
    await bus.subscribe(
      "billing",
      [PLACED],
      async () => {
        throw new Error("nope");
      },
      { maxDeliver: 1 },
    );
    const events = [1, 2, 3].map((n) => event(PLACED, "order-1", { n }));
    await bus.publish(events);
    await eventually(
      async () => (await bus.deadLetters("billing")).length === 3,
      5_000,
      "three dead letters",
    );
    const firstTwo = await bus.deadLetters("billing", 2);
    expect(firstTwo.map((dead) => dead.event.id)).toEqual([events[0]?.id, events[1]?.id]);
    expect(firstTwo.map((dead) => dead.attempts)).toEqual([1, 1]);
  });

  it("reads one dead letter by id, replays it to its consumer only, once, and then it is gone", async () => {
    const bus = await open();
    let failing = true;
    const billed: string[] = [];
    const shipped: string[] = [];
    await bus.subscribe(
      "billing",
      [PLACED],
      async (received, info) => {
        if (failing) throw new Error("billing is down");
        billed.push(`${received.id}#${info.attempt}${info.replayed ? " replayed" : ""}`);
      },
      { maxDeliver: 1 },
    );
    await bus.subscribe("shipping", [PLACED], async (received, info) => {
      shipped.push(`${received.id}${info.replayed ? " replayed" : ""}`);
    });
    const placed = event(PLACED, "order-1", { total: 42 });
    await bus.publish([placed]);
    await eventually(async () => (await bus.deadLetters("billing")).length === 1, 5_000, "a dead letter");
    await eventually(() => shipped.length === 1, 5_000, "shipping handled it");
    const [dead] = await bus.deadLetters("billing");
    const id = dead?.id ?? "";
    expect(id).toMatch(/\S/);
    expect(await bus.deadLetter("billing", id)).toEqual(dead);
    // Another consumer's dead letter, or an id that names none, is not found.
    expect(await bus.deadLetter("shipping", id)).toBeUndefined();
    expect(await bus.deadLetter("billing", "999999")).toBeUndefined();
    expect(await bus.replayDeadLetter("shipping", id)).toBe(false);

    failing = false;
    // Two replays at once (two replicas, a retried request): one delivery.
    const replays = await Promise.all([
      bus.replayDeadLetter("billing", id),
      bus.replayDeadLetter("billing", id),
    ]);
    expect(replays).toContain(true);
    await eventually(() => billed.length === 1, 5_000, "the replayed event handled");
    // Told apart from a first delivery (its envelope's time is when it first occurred).
    expect(billed).toEqual([`${placed.id}#1 replayed`]);
    expect(await bus.deadLetters("billing")).toEqual([]);
    expect(await bus.deadLetter("billing", id)).toBeUndefined();
    expect(await bus.replayDeadLetter("billing", id)).toBe(false);
    await sleep(200);
    expect(billed).toHaveLength(1);
    expect(shipped).toEqual([placed.id]);
  });

  it("a replay that fails again is dead-lettered again, under a new id; discard removes one undelivered", async () => {
    const bus = await open();
    let calls = 0;
    await bus.subscribe(
      "billing",
      [PLACED],
      async () => {
        calls++;
        throw new Error("still down");
      },
      { maxDeliver: 1 },
    );
    const placed = event(PLACED, "order-1");
    await bus.publish([placed]);
    await eventually(async () => (await bus.deadLetters("billing")).length === 1, 5_000, "a dead letter");
    const first = (await bus.deadLetters("billing"))[0]?.id ?? "";
    expect(await bus.replayDeadLetter("billing", first)).toBe(true);
    await eventually(
      async () => (await bus.deadLetters("billing")).some((dead) => dead.id !== first),
      5_000,
      "dead-lettered again",
    );
    const [again] = await bus.deadLetters("billing");
    expect(again).toMatchObject({ attempts: 1, event: placed, error: "still down" });
    expect(calls).toBe(2);

    expect(await bus.discardDeadLetter("billing", again?.id ?? "")).toBe(true);
    expect(await bus.discardDeadLetter("billing", again?.id ?? "")).toBe(false);
    expect(await bus.deadLetters("billing")).toEqual([]);
    await sleep(200);
    expect(calls).toBe(2);
  });

  it("accepts a publish nobody subscribes to; a first subscriber gets what the bus retained", async () => {
    const bus = await open();
    await bus.publish([event(PLACED, "order-early")]);
    await bus.publish([]);
    const seen: string[] = [];
    await bus.subscribe("billing", [PLACED], async (received) => {
      seen.push(received.subject);
    });
    await bus.publish([event(PLACED, "order-late")]);
    // JetStream keeps the stream, so a service deployed after its publisher still gets their
    // events; the memory bus has no storage (the launcher subscribes everyone before publishing).
    const expected = kind === "nats" ? ["order-early", "order-late"] : ["order-late"];
    await eventually(() => seen.length === expected.length, 5_000, "the retained and later events");
    await sleep(100);
    expect(seen).toEqual(expected);
  });

  it("delivers only the subscribed types, across domains", async () => {
    const bus = await open();
    const seen: string[] = [];
    await bus.subscribe("notifications", [PLACED, CAPTURED], async (received) => {
      seen.push(received.type);
    });
    await bus.publish([event(PLACED, "o-1"), event(CANCELLED, "o-1"), event(CAPTURED, "p-1")]);
    await eventually(() => seen.length === 2, 5_000, "two deliveries");
    await sleep(100);
    expect(seen.sort()).toEqual([PLACED, CAPTURED].sort());
  });

  it("close waits for the handler in flight", async () => {
    const bus = await open();
    const started = latch();
    const release = latch();
    let finished = false;
    await bus.subscribe("billing", [PLACED], async () => {
      started.open();
      await release.promise;
      finished = true;
    });
    const published = bus.publish([event(PLACED, "order-1")]);
    await started.promise;
    let closed = false;
    const closing = bus.close().then(() => {
      closed = true;
    });
    await sleep(50);
    expect(closed).toBe(false);
    release.open();
    await closing;
    expect(finished).toBe(true);
    await published; // acked before the close completed
  });

  it("rejects publish and subscribe after close, and ping fails", async () => {
    const bus = await open();
    await bus.close();
    await expect(bus.publish([event(PLACED, "order-1")])).rejects.toThrow();
    await expect(bus.subscribe("billing", [PLACED], async () => {})).rejects.toThrow();
    await expect(bus.ping()).rejects.toThrow();
    await bus.close(); // idempotent
  });

  it("hands an unacked event to the next subscription of the consumer after a stop", async () => {
    const bus = await open();
    const failed = latch();
    const first = await bus.subscribe(
      "billing",
      [PLACED],
      async () => {
        failed.open();
        throw new Error("replica going down");
      },
      { backoffMs: [50] },
    );
    const placed = event(PLACED, "order-1");
    const published = bus.publish([placed]);
    await failed.promise;
    await first.stop();
    const redelivered: DeliveryInfo[] = [];
    await bus.subscribe("billing", [PLACED], async (received, info) => {
      expect(received.id).toBe(placed.id);
      redelivered.push(info);
    });
    await eventually(() => redelivered.length === 1, 5_000, "the redelivery");
    expect(redelivered[0]).toEqual({ attempt: 2, consumer: "billing" });
    await published;
  });

  it("dead-letters a delivery already past maxDeliver without running the handler (crash loop)", async () => {
    const bus = await open();
    const secondAttempt = latch();
    // Stands in for replicas that died mid-handler twice: the delivery count went up, no ack.
    const crashing = await bus.subscribe(
      "billing",
      [PLACED],
      async (_received, info) => {
        if (info.attempt === 2) secondAttempt.open();
        throw new Error("crash");
      },
      { maxDeliver: 10, backoffMs: [30] },
    );
    const published = bus.publish([event(PLACED, "order-1")]);
    await secondAttempt.promise;
    await crashing.stop();
    let calls = 0;
    await bus.subscribe(
      "billing",
      [PLACED],
      async () => {
        calls++;
      },
      { maxDeliver: 2 },
    );
    await eventually(async () => (await bus.deadLetters("billing")).length === 1, 5_000, "the dead letter");
    const [dead] = await bus.deadLetters("billing");
    expect(dead?.attempts).toBe(2);
    expect(calls).toBe(0);
    await published;
  });

  it("delivers the envelope intact (trace context, correlation id, data)", async () => {
    const bus = await open();
    const received: EventEnvelope[] = [];
    await bus.subscribe("audit", [PLACED], async (envelope) => {
      received.push(envelope);
    });
    const placed = event(
      PLACED,
      "order-1",
      { lines: [{ sku: "rose", quantity: 3 }], total: { amountMinor: 1299, currency: "EUR" }, note: null },
      {
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        tracestate: "blossom=1",
        correlationId: "req-123",
      },
    );
    await bus.publish([placed]);
    await eventually(() => received.length === 1, 5_000, "the delivery");
    expect(received[0]).toEqual(placed);
  });

  it("gives each consumer its own copy of the event", async () => {
    const bus = await open();
    const mutated = latch();
    let seenByOther: unknown;
    await bus.subscribe("mutator", [PLACED], async (received) => {
      (received.data as { total: number }).total = -1;
      mutated.open();
    });
    await bus.subscribe("reader", [PLACED], async (received) => {
      await mutated.promise;
      seenByOther = structuredClone(received.data);
    });
    const placed = event(PLACED, "order-1", { total: 10 });
    await bus.publish([placed]);
    await eventually(() => seenByOther !== undefined, 5_000, "the reader");
    expect(seenByOther).toEqual({ total: 10 });
    expect(placed.data).toEqual({ total: 10 });
  });

  if (kind === "memory") {
    it("memory: publish resolves only once every consumer has handled the event", async () => {
      const bus = await open();
      const release = latch();
      await bus.subscribe("billing", [PLACED], () => release.promise);
      let resolved = false;
      const published = bus.publish([event(PLACED, "order-1")]).then(() => {
        resolved = true;
      });
      await sleep(30);
      expect(resolved).toBe(false);
      release.open();
      await published;
      expect(resolved).toBe(true);
    });

    it("memory: close rejects a publish whose event no consumer has handled yet", async () => {
      const bus = await open();
      const subscription = await bus.subscribe("billing", [PLACED], async () => {});
      await subscription.stop(); // the consumer is still owed its events, like a durable
      const published = bus.publish([event(PLACED, "order-1")]);
      await bus.close();
      await expect(published).rejects.toThrow(/closed/);
    });
  }

  if (kind === "nats") {
    it("nats: a republished event id is delivered once (server-side dedup)", async () => {
      const bus = await open();
      const seen: string[] = [];
      await bus.subscribe("billing", [PLACED], async (received) => {
        seen.push(received.id);
      });
      const placed = event(PLACED, "order-1");
      await bus.publish([placed]);
      await bus.publish([placed]); // the outbox retrying after a crash
      await eventually(() => seen.length >= 1, 5_000, "the delivery");
      await sleep(200);
      expect(seen).toEqual([placed.id]);
    });

    it("nats: replicas in different processes share one durable", async () => {
      const [publisher, replicaA, replicaB] = [await open(), await open(), await open()];
      const handledBy: Record<string, number> = { a: 0, b: 0 };
      const ids = new Set<string>();
      for (const [name, replica] of [
        ["a", replicaA],
        ["b", replicaB],
      ] as const) {
        await replica.subscribe("billing", [PLACED], async (received) => {
          ids.add(received.id);
          handledBy[name] = (handledBy[name] ?? 0) + 1;
          await sleep(2);
        });
      }
      await publisher.publish(Array.from({ length: 40 }, (_, n) => event(PLACED, `order-${n}`)));
      await eventually(() => ids.size === 40, 5_000, "40 deliveries");
      await sleep(150);
      expect((handledBy.a ?? 0) + (handledBy.b ?? 0)).toBe(40);
    });
  }
});
