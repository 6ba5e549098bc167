import { eventually } from "@blossom/testkit";
import { describe, expect, it } from "vitest";
import { createEnvelope } from "../envelope.js";
import { type DeadLetterBound, MAX_DEAD_LETTER_ERROR_CHARS } from "../event-bus.js";
import { MemoryBus } from "./memory-bus.js";

const TYPE = "orders.order-placed.v1";

/**
 * A bus whose consumer `c` dead-letters every event at once, with `error` as the reason; what
 * its `onDeadLettersDropped` reports lands in `drops`.
 */
async function failingBus(
  options: ConstructorParameters<typeof MemoryBus>[0],
  error: string,
  drops: [number, DeadLetterBound][] = [],
) {
  const bus = new MemoryBus(options);
  await bus.subscribe(
    "c",
    [TYPE],
    async () => {
      throw new Error(error);
    },
    { maxDeliver: 1, onDeadLettersDropped: (dropped, bound) => drops.push([dropped, bound]) },
  );
  return bus;
}

const publish = (bus: MemoryBus, subject: string, data: unknown = {}) =>
  bus.publish([createEnvelope("test", { type: TYPE, subject, data })]);

describe("MemoryBus dead letters (in memory: bounded)", () => {
  it("keeps at most maxDeadLetters per consumer, the oldest dropped first", async () => {
    const bus = await failingBus({ maxDeadLetters: 3 }, "nope");
    for (let n = 1; n <= 5; n++) await publish(bus, `order-${n}`);
    const kept = await bus.deadLetters("c");
    expect(kept.map((letter) => letter.event.subject)).toEqual(["order-3", "order-4", "order-5"]);
    await bus.close();
  });

  it("keeps at most maxDeadLetterChars per consumer (event JSON + error), always the newest", async () => {
    const bus = await failingBus({ maxDeadLetterChars: 5_000 }, "nope");
    for (let n = 1; n <= 4; n++) await publish(bus, `order-${n}`, { blob: "x".repeat(2_000) });
    expect((await bus.deadLetters("c")).map((letter) => letter.event.subject)).toEqual([
      "order-3",
      "order-4",
    ]);
    await publish(bus, "huge", { blob: "y".repeat(10_000) });
    expect((await bus.deadLetters("c")).map((letter) => letter.event.subject)).toEqual(["huge"]);
    await bus.close();
  });

  it("reports each drop past maxDeadLetters to onDeadLettersDropped, nothing up to the bound", async () => {
    const drops: [number, DeadLetterBound][] = [];
    const bus = await failingBus({ maxDeadLetters: 3 }, "nope", drops);
    for (let n = 1; n <= 3; n++) await publish(bus, `order-${n}`);
    expect(await bus.deadLetters("c")).toHaveLength(3);
    expect(drops).toEqual([]);
    for (let n = 4; n <= 6; n++) await publish(bus, `order-${n}`);
    expect(drops).toEqual([
      [1, "count"],
      [1, "count"],
      [1, "count"],
    ]);
    // A discarded letter leaves room: the next dead letter drops nothing.
    const [oldest] = await bus.deadLetters("c");
    expect(await bus.discardDeadLetter("c", oldest?.id ?? "")).toBe(true);
    await publish(bus, "order-7");
    expect(drops).toHaveLength(3);
    await bus.close();
  });

  it("reports how many one dead letter dropped past maxDeadLetterChars, as the size bound", async () => {
    const drops: [number, DeadLetterBound][] = [];
    const bus = await failingBus({ maxDeadLetterChars: 5_000 }, "nope", drops);
    for (let n = 1; n <= 2; n++) await publish(bus, `order-${n}`, { blob: "x".repeat(2_000) });
    expect(drops).toEqual([]);
    await publish(bus, "order-3", { blob: "x".repeat(2_000) });
    expect(drops).toEqual([[1, "size"]]);
    // One letter over the whole budget drops both kept before it, reported at once.
    await publish(bus, "huge", { blob: "y".repeat(10_000) });
    expect(drops).toEqual([
      [1, "size"],
      [2, "size"],
    ]);
    expect((await bus.deadLetters("c")).map((letter) => letter.event.subject)).toEqual(["huge"]);
    await bus.close();
  });

  it("tells the handler a replayed dead letter is a replay, on every attempt of it, and nothing else", async () => {
    const bus = new MemoryBus();
    let failing = true;
    const seen: string[] = [];
    await bus.subscribe(
      "c",
      [TYPE],
      async (event, info) => {
        seen.push(`${event.subject}#${info.attempt}${info.replayed ? " replayed" : ""}`);
        if (failing) throw new Error("down");
      },
      { maxDeliver: 2, backoffMs: [0] },
    );
    await publish(bus, "order-1");
    expect(seen).toEqual(["order-1#1", "order-1#2"]);
    const [letter] = await bus.deadLetters("c");
    expect(await bus.replayDeadLetter("c", letter?.id ?? "")).toBe(true);
    await eventually(async () => expect(await bus.deadLetters("c")).toHaveLength(1));
    failing = false;
    await publish(bus, "order-2");
    expect(seen).toEqual(["order-1#1", "order-1#2", "order-1#1 replayed", "order-1#2 replayed", "order-2#1"]);
    await bus.close();
  });

  it("cuts a dead letter's error to MAX_DEAD_LETTER_ERROR_CHARS", async () => {
    const bus = await failingBus({}, `boom ${"z".repeat(100_000)}`);
    await publish(bus, "order-1");
    await eventually(async () => expect(await bus.deadLetters("c")).toHaveLength(1));
    const [letter] = await bus.deadLetters("c");
    expect(letter?.error).toHaveLength(MAX_DEAD_LETTER_ERROR_CHARS);
    expect(letter?.error.startsWith("boom zzz")).toBe(true);
    await bus.close();
  });
});
