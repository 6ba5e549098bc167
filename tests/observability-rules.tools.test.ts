import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { promtool } from "./support/prometheus.js";

// `npm run test:tools`: needs promtool (Debian's prometheus package). The dashboards, which need
// only Node, are checked in observability-dashboards.test.ts.

const OBSERVABILITY = join(import.meta.dirname, "..", "deploy", "observability");
const RULES = join(OBSERVABILITY, "rules");

describe("deploy/observability checked by promtool", () => {
  it("the alert rules are valid (`promtool check rules`)", () => {
    const { code, output } = promtool(["check", "rules", "alerts.yml"], { cwd: RULES });
    expect(output).toContain("SUCCESS: 8 rules found");
    expect(code, output).toBe(0);
  });

  it("the alerts fire as specified, including when payments is stopped (`promtool test rules`)", () => {
    const tests = readFileSync(join(RULES, "alerts.test.yml"), "utf8");
    // The acceptance case: payments down makes ServiceDown and CircuitBreakerOpen fire.
    expect(tests).toContain("- name: payments stopped");
    expect(tests).toMatch(
      /alertname: ServiceDown\n\s+exp_alerts:\n\s+- exp_labels:[\s\S]*?service: payments/,
    );
    expect(tests).toMatch(
      /alertname: CircuitBreakerOpen\n\s+exp_alerts:\n\s+- exp_labels:[\s\S]*?upstream: payments/,
    );
    const { code, output } = promtool(["test", "rules", "alerts.test.yml"], { cwd: RULES });
    expect(output).toContain("SUCCESS");
    expect(code, output).toBe(0);
  });

  it("a broken expectation makes `promtool test rules` fail (the test above can fail)", () => {
    const tests = readFileSync(join(RULES, "alerts.test.yml"), "utf8").replace(
      'summary: "payments is down (127.0.0.1:8084)"',
      'summary: "payments is up"',
    );
    const dir = mkdtempSync(join(tmpdir(), "blossom-rules-"));
    try {
      copyFileSync(join(RULES, "alerts.yml"), join(dir, "alerts.yml"));
      writeFileSync(join(dir, "alerts.test.yml"), tests);
      const { code, output } = promtool(["test", "rules", "alerts.test.yml"], { cwd: dir });
      expect(output).toContain('summary="payments is up"');
      expect(code, output).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the scrape configuration is valid (`promtool check config`, which checks the rule files too)", () => {
    const { code, output } = promtool(["check", "config", "prometheus.yml"], { cwd: OBSERVABILITY });
    expect(output).toContain("SUCCESS");
    expect(code, output).toBe(0);
  });
});
