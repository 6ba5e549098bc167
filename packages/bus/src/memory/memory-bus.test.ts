import { eventually } from "@blossom/testkit";
import { describe, expect, it } from "vitest";
import { createEnvelope } from "../envelope.js";
import { MAX_DEAD_LETTER_ERROR_CHARS } from "../event-bus.js";
import { MemoryBus } from "./memory-bus.js";

const TYPE = "orders.order-placed.v1";

/** A bus whose consumer `c` dead-letters every event at once, with `error` as the reason. */
async function failingBus(options: ConstructorParameters<typeof MemoryBus>[0], error: string) {
  const bus = new MemoryBus(options);
  await bus.subscribe(
    "c",
    [TYPE],
    async () => {
      throw new Error(error);
    },
    { maxDeliver: 1 },
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
