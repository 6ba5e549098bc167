import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scrapeEveryRunnable, startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";

const OBSERVABILITY = join(import.meta.dirname, "..", "deploy", "observability");
// `promtool check metrics` on the same expositions needs Prometheus's promtool: it is in
// observability-metrics.tools.test.ts (`npm run test:tools`).

/** The metric families an exposition declares, with the series names a histogram adds. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = "", type] = match;
    names.add(name);
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(name + suffix);
  }
  return names;
}

/**
 * The metric names a PromQL expression reads. Blossom's and the runtime's metrics all start with
 * a known prefix, so a name is any identifier with one of them (functions, keywords and label
 * names never do), plus `up`.
 */
function metricNamesIn(promql: string): string[] {
  const withoutMatchers = promql.replace(/\{[^}]*\}/g, "{}");
  const names = [...withoutMatchers.matchAll(/\b(?:blossom|http_server|process|nodejs)_[a-z0-9_]+\b/g)].map(
    (match) => match[0],
  );
  if (/\bup\s*(\{|$|\s|==)/.test(withoutMatchers)) names.push("up");
  return names;
}

function dashboardExpressions(): Array<{ where: string; expr: string }> {
  const folder = join(OBSERVABILITY, "grafana", "dashboards");
  const found: Array<{ where: string; expr: string }> = [];
  for (const file of readdirSync(folder).filter((name) => name.endsWith(".json"))) {
    const dashboard = JSON.parse(readFileSync(join(folder, file), "utf8")) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
      templating: { list: Array<{ name: string; definition?: string }> };
    };
    for (const panel of dashboard.panels)
      for (const target of panel.targets ?? [])
        found.push({ where: `${file} "${panel.title}"`, expr: target.expr });
    for (const variable of dashboard.templating.list)
      if (variable.definition) found.push({ where: `${file} $${variable.name}`, expr: variable.definition });
  }
  return found;
}

function ruleExpressions(): Array<{ where: string; expr: string }> {
  const text = readFileSync(join(OBSERVABILITY, "rules", "alerts.yml"), "utf8");
  // Each rule's `expr:` is one line or a `|` block indented under it.
  return [...text.matchAll(/- alert: (\S+)[\s\S]*?expr: (\|\n(?:\s{10,}.*\n)+|.*\n)/g)].map((match) => ({
    where: `alerts.yml ${match[1]}`,
    expr: match[2] ?? "",
  }));
}

describe("GET /metrics on every runnable of the embedded platform", () => {
  let platform: TestPlatform;
  const expositions = new Map<string, string>();

  beforeAll(async () => {
    platform = await startTestPlatform();
    for (const [name, text] of await scrapeEveryRunnable(platform)) expositions.set(name, text);
  }, 120_000);
  afterAll(async () => {
    await platform?.destroy();
  });

  it("each serves its own series, labelled with its service, with process and event-loop metrics", () => {
    for (const [name, text] of expositions) {
      const services = new Set([...text.matchAll(/service="([^"]+)"/g)].map((match) => match[1]));
      expect([...services], name).toEqual([name]);
      expect(text, name).toMatch(/^process_resident_memory_bytes\{service="[a-z]+"\} \d+/m);
      expect(text, name).toMatch(/^nodejs_eventloop_lag_p99_seconds\{/m);
    }
    expect(expositions.get("orders")).toMatch(
      /^blossom_saga_outcomes_total\{[^}]*outcome="timed_out"[^}]*\} 0$/m,
    );
    expect(expositions.get("inventory")).toMatch(
      /^blossom_stock_reservations_total\{[^}]*outcome="reserved"/m,
    );
    expect(expositions.get("orders")).toMatch(/^blossom_outbox_backlog\{service="orders"\} 0$/m);
    expect(expositions.get("gateway")).toMatch(
      /^blossom_circuit_breaker_state\{[^}]*upstream="payments"[^}]*\} 0$/m,
    );
    expect(expositions.get("gateway")).toMatch(
      /^blossom_rate_limit_rejections_total\{[^}]*route_class="login"/m,
    );
  });

  it("is not served through the gateway's proxy: the gateway's /metrics is its own", async () => {
    const gatewayText = expositions.get("gateway") ?? "";
    expect(gatewayText).not.toContain('service="orders"');
    expect(gatewayText).toMatch(/blossom_circuit_breaker_state/);
  });

  it("every metric the dashboards and alert rules query is exported by the platform", () => {
    const exported = new Set(["up"]);
    for (const text of expositions.values()) for (const name of exportedNames(text)) exported.add(name);
    const used = [...dashboardExpressions(), ...ruleExpressions()];
    expect(used.length).toBeGreaterThan(30);
    const read = new Set(used.flatMap(({ expr }) => metricNamesIn(expr)));
    for (const name of ["up", "blossom_saga_outcomes_total", "http_server_request_duration_seconds_bucket"])
      expect(read, name).toContain(name);
    const missing = used.flatMap(({ where, expr }) =>
      metricNamesIn(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(missing).toEqual([]);
  });
});
