import type { Check } from "./invariants.js";
import { percentile, type Sample } from "./load.js";

export interface Fault {
  atS: number;
  what: string;
}

/** The run in one table, printed into the test output (and so kept in CI's log). */
export function summaryTable(input: {
  topology: string;
  durationS: number;
  faults: Fault[];
  samples: Sample[];
  orders: { accepted: number; confirmed: number; cancelled: number; injected503: number };
  catalogSuccessRate: number;
  /** Requests sent straight to an orders replica, and how many got an injected fault. */
  probes: { sent: number; injected: number };
  checks: Check[];
}): string {
  const catalog = input.samples.filter((sample) => sample.kind === "catalog");
  const checkouts = input.samples.filter((sample) => sample.kind === "checkout");
  const rows: Array<[string, string]> = [
    ["topology", input.topology],
    ["load", `${input.durationS} s`],
    ["faults injected", String(input.faults.length)],
    ...input.faults.map((fault): [string, string] => [`  t+${fault.atS.toFixed(1)} s`, fault.what]),
    ["requests", `${input.samples.length} (catalog ${catalog.length}, checkout ${checkouts.length})`],
    [
      "orders",
      `${input.orders.accepted} accepted: ${input.orders.confirmed} confirmed, ${input.orders.cancelled} cancelled; ${input.orders.injected503} checkouts got injected 503s`,
    ],
    ["checkout answers", answers(checkouts)],
    [
      "orders faults (direct)",
      `${input.probes.injected} of ${input.probes.sent} answered 503 injected-fault`,
    ],
    ["catalog answers", answers(catalog)],
    ["catalog success rate", `${(input.catalogSuccessRate * 100).toFixed(3)} % (≥ 99.9 % required)`],
    [
      "catalog p50 / p99",
      `${percentile(
        catalog.map((s) => s.ms),
        50,
      )} / ${percentile(
        catalog.map((s) => s.ms),
        99,
      )} ms`,
    ],
    [
      "checkout p50 / p99",
      `${percentile(
        checkouts.map((s) => s.ms),
        50,
      )} / ${percentile(
        checkouts.map((s) => s.ms),
        99,
      )} ms`,
    ],
    ["invariant checks", `${input.checks.filter((check) => check.ok).length}/${input.checks.length} held`],
    ...input.checks.map((check): [string, string] => [
      `  ${check.ok ? "ok  " : "FAIL"} ${check.name}`,
      check.detail,
    ]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    "",
    "Chaos run summary",
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    "",
  ].join("\n");
}

/** "202 ×173, 503 unavailable ×2": how the requests ended, by status and problem type. */
function answers(samples: Sample[]): string {
  const counts = new Map<string, number>();
  for (const sample of samples) {
    const key = `${sample.status}${sample.problem ? ` ${sample.problem.split("/").pop()}` : ""}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${key} ×${n}`).join(", ");
}
