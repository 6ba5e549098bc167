import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const OBSERVABILITY = join(import.meta.dirname, "..", "deploy", "observability");

// The alert rules and the scrape configuration are checked by promtool in
// observability-rules.tools.test.ts (`npm run test:tools`).
describe("deploy/observability dashboards", () => {
  it("the Grafana dashboards are JSON with a unique uid and PromQL in every panel", () => {
    const folder = join(OBSERVABILITY, "grafana", "dashboards");
    const files = readdirSync(folder).filter((name) => name.endsWith(".json"));
    expect(files.sort()).toEqual([
      "bus.json",
      "checkout-saga.json",
      "platform-overview.json",
      "service-red.json",
    ]);
    const uids = new Set<string>();
    for (const file of files) {
      const dashboard = JSON.parse(readFileSync(join(folder, file), "utf8")) as {
        uid: string;
        panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
      };
      uids.add(dashboard.uid);
      const panels = dashboard.panels.filter((panel) => panel.type !== "row");
      expect(panels.length, file).toBeGreaterThan(3);
      for (const panel of panels) expect(panel.targets?.[0]?.expr, `${file} ${panel.title}`).toMatch(/\S/);
    }
    expect(uids.size).toBe(files.length);
  });
});
