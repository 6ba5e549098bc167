import { DEFAULT_MAX_DEAD_LETTER_CHARS, defineEvent, messagingMigrations } from "@blossom/bus";
import { startServiceForTest } from "@blossom/testkit";
import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { on, type ServiceDefinition } from "./service-definition.js";

// A service of the test's own (packages never import services), on the host as the launcher runs
// it and the real memory bus: its handler fails while `failing`, and then dead-letters at once.
const Pinged = defineEvent(
  "pinger.pinged.v1",
  Type.Object({ n: Type.Integer(), note: Type.Optional(Type.String()) }),
  "a ping",
);
let failing = true;
const echo: ServiceDefinition<unknown> = {
  name: "echo",
  description: "takes pings",
  migrations: messagingMigrations,
  publishes: [],
  consumes: [
    on(Pinged, async () => {
      if (failing) throw new Error("echo is down");
    }),
  ],
  consumerOptions: { maxDeliver: 1 },
  settings: {},
  routes() {},
};

type Echo = Awaited<ReturnType<typeof startServiceForTest<unknown, Record<string, never>>>>;

/** The value of one series of the host's registry (0 when it has no such series yet). */
async function series(service: Echo, metric: string, name: string, labels: Record<string, string>) {
  const values = (await service.host.context.metrics.registry.getSingleMetric(metric)?.get())?.values ?? [];
  const found = values.find(
    (value) =>
      // A histogram's values name their series (`_bucket`, `_count`, `_sum`).
      ((value as { metricName?: string }).metricName ?? metric) === name &&
      Object.entries(labels).every(([key, label]) => value.labels[key] === label),
  );
  return found?.value ?? 0;
}

const delayCount = (service: Echo) =>
  series(service, "blossom_event_delivery_delay_seconds", "blossom_event_delivery_delay_seconds_count", {
    event_type: Pinged.type,
  });
const consumed = (service: Echo, outcome: string) =>
  series(service, "blossom_events_consumed_total", "blossom_events_consumed_total", {
    event_type: Pinged.type,
    outcome,
  });

describe("the host's consumer metrics", () => {
  it("counts a replayed dead letter as consumed, but not in the delivery delay", async () => {
    failing = true;
    const service = await startServiceForTest(echo);
    try {
      await service.publish(Pinged, "s-1", { n: 1 });
      const [letter] = await service.bus.deadLetters("echo");
      expect(letter?.event.subject).toBe("s-1");
      // The first delivery counts in both.
      expect(await delayCount(service)).toBe(1);
      expect(await consumed(service, "failed")).toBe(1);

      failing = false;
      expect(await service.bus.replayDeadLetter("echo", letter?.id ?? "")).toBe(true);
      await expect.poll(() => consumed(service, "handled")).toBe(1);
      expect(await delayCount(service)).toBe(1);

      // A new event still counts (the histogram is not merely dead).
      await service.publish(Pinged, "s-2", { n: 2 });
      expect(await consumed(service, "handled")).toBe(2);
      expect(await delayCount(service)).toBe(2);
    } finally {
      await service.close();
    }
  });

  it("counts and logs the dead letters the memory bus drops past its bounds, nothing below", async () => {
    failing = true;
    const service = await startServiceForTest(echo, { logLevel: "warn" });
    const dropped = () =>
      series(service, "blossom_dead_letters_dropped_total", "blossom_dead_letters_dropped_total", {
        consumer: "echo",
      });
    try {
      // Three letters of 40% of the size bound each: two fit, the third drops the oldest.
      const note = "x".repeat(Math.floor(DEFAULT_MAX_DEAD_LETTER_CHARS * 0.4));
      await service.publish(Pinged, "s-1", { n: 1, note });
      await service.publish(Pinged, "s-2", { n: 2, note });
      expect(await service.bus.deadLetters("echo")).toHaveLength(2);
      expect(await dropped()).toBe(0);
      expect(service.logs().filter((line) => line.dropped !== undefined)).toEqual([]);

      await service.publish(Pinged, "s-3", { n: 3, note });
      expect((await service.bus.deadLetters("echo")).map((letter) => letter.event.subject)).toEqual([
        "s-2",
        "s-3",
      ]);
      expect(await dropped()).toBe(1);
      expect(service.logs().filter((line) => line.dropped !== undefined)).toEqual([
        expect.objectContaining({ level: "warn", consumer: "echo", dropped: 1, bound: "size" }),
      ]);
    } finally {
      await service.close();
    }
  });
});
