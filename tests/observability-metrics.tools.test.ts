import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNNABLE_NAMES } from "../apps/blossom/src/topology.js";
import { scrapeEveryRunnable, startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";
import { promtool } from "./support/prometheus.js";

// `npm run test:tools`: needs promtool (Debian's prometheus package). The checks that need only
// Node are in observability-metrics.test.ts.
describe("GET /metrics of every runnable of the embedded platform, checked by promtool", () => {
  let platform: TestPlatform;
  const expositions = new Map<string, string>();

  beforeAll(async () => {
    platform = await startTestPlatform();
    for (const [name, text] of await scrapeEveryRunnable(platform)) expositions.set(name, text);
  }, 120_000);
  afterAll(async () => {
    await platform?.destroy();
  });

  it("passes `promtool check metrics` with no problem on Blossom's own metrics", () => {
    expect([...expositions.keys()].sort()).toEqual([...RUNNABLE_NAMES].sort());
    for (const [name, text] of expositions) {
      const { output } = promtool(["check", "metrics"], { input: text });
      // prom-client's default process metrics draw a few naming remarks (e.g. counters of
      // bytes): those are not ours to rename. Blossom's own must draw none.
      const ours = output
        .split("\n")
        .filter((line) => /^(blossom_|http_server_)/.test(line) || /error|parse/i.test(line));
      expect(ours, `${name}:\n${output}`).toEqual([]);
    }
  });
});
