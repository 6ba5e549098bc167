import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";

/** Options every benchmark receives from `bench/run.ts`. */
export interface BenchOptions {
  /** Short smoke run: fewer events, one repetition. */
  quick: boolean;
  /** Where the events benchmark keeps its databases. */
  store: "pglite" | "postgres";
}

/** A benchmark's outcome: the text it printed and what goes to `bench/results/<name>.json`. */
export interface BenchResult {
  name: string;
  text: string;
  /** Something that should have been measured failed (a skip, e.g. NATS unreachable, is not a failure). */
  failed: boolean;
  json: Record<string, unknown>;
}

export const RESULTS_DIR = resolve(import.meta.dirname, "results");

export type Cell = string | number | undefined;

/** A plain-text table: numbers right-aligned, `undefined` shown as "-". */
export function table(title: string, columns: string[], rows: Cell[][]): string {
  const text = (cell: Cell) => (cell === undefined ? "-" : typeof cell === "number" ? fmt(cell) : cell);
  const cells = [columns, ...rows.map((row) => columns.map((_, index) => text(row[index])))];
  const widths = columns.map((_, index) => Math.max(...cells.map((row) => (row[index] ?? "").length)));
  const numeric = columns.map((_, index) => rows.some((row) => typeof row[index] === "number"));
  const line = (row: string[]) =>
    `  ${row
      .map((cell, index) =>
        numeric[index] ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0),
      )
      .join("  ")
      .trimEnd()}`;
  const rule = `  ${widths.map((width) => "-".repeat(width)).join("  ")}`;
  return [title, line(cells[0] ?? []), rule, ...cells.slice(1).map(line), ""].join("\n");
}

/** 3 significant figures for small numbers, thousands separators for large ones. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** `a / b` as "2.35x", or undefined when either side is missing. */
export function ratio(a: number | undefined, b: number | undefined): string | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined;
  const quotient = a / b;
  // Small ratios keep two significant figures (0.0034x), where fmt would round them to 0.00.
  return `${quotient < 0.1 ? quotient.toPrecision(2) : fmt(quotient)}x`;
}

/** An objective on a ratio: at least or at most this many times the baseline. */
export type RatioObjective = { atLeast: number } | { atMost: number };

/**
 * `a / b` as `ratio` shows it, followed by the objective and whether it was met:
 * "0.62x (>= 0.5x ok)", "3.4x (<= 3x MISSED)"; undefined when either side is missing.
 */
export function ratioAgainst(
  a: number | undefined,
  b: number | undefined,
  objective: RatioObjective,
): string | undefined {
  const shown = ratio(a, b);
  if (shown === undefined || a === undefined || b === undefined) return undefined;
  const quotient = a / b;
  const [sign, limit, met] =
    "atLeast" in objective
      ? [">=", objective.atLeast, quotient >= objective.atLeast]
      : ["<=", objective.atMost, quotient <= objective.atMost];
  return `${shown} (${sign} ${limit}x ${met ? "ok" : "MISSED"})`;
}

/** "<= 5,000 ok" or "<= 5,000 MISSED": `value` against an upper bound; undefined when not measured. */
export function withinTarget(value: number | undefined, limit: number): string | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  return `<= ${fmt(limit)} ${value <= limit ? "ok" : "MISSED"}`;
}

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** The machine and its load right now, stored with every result (figures mean little without it). */
export function machine(): Record<string, unknown> {
  const [one, five, fifteen] = loadavg();
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    loadAverage: { one, five, fifteen },
  };
}

export function loadLine(): string {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  const cores = cpus().length;
  const busy = one > cores * 0.75 ? "  (HIGH for this machine: figures are noisy)" : "";
  return `load average ${one.toFixed(2)} ${five.toFixed(2)} ${fifteen.toFixed(2)} on ${cores} cores${busy}`;
}

export async function writeResult(result: BenchResult): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${result.name}.json`);
  await writeFile(file, `${JSON.stringify(result.json, null, 2)}\n`);
  return file;
}

/** Rejects with `message` if `work` takes longer than `ms` (the work itself is not cancelled). */
export async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (timed out after ${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
