/**
 * Start-up time and memory of `blossom start` (the whole platform in one process), against
 * baselines measured in the same run: the runtime floor (`node -e 0`, and with tsx loaded) and
 * a bare Fastify hello server's RSS.
 */

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, type BlossomProcess as Proc, spawnNode } from "@blossom/testkit";
import {
  type BenchOptions,
  type BenchResult,
  type Cell,
  errorMessage,
  loadLine,
  machine,
  median,
  ratio,
  table,
} from "./report.js";

const ROOT = resolve(import.meta.dirname, "..");
const READS = 200;
const CATALOG_PATH = "/api/inventory/products?limit=20";
const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;
const TSX = ["--conditions=source", "--import", "tsx"];
const BUILT_ENTRY = join(ROOT, "apps/blossom/dist/main.js");

const HELLO_SERVER = `
import Fastify from "fastify";
const app = Fastify({ logger: false });
app.get("/", async () => ({ hello: "world" }));
const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write("listening " + address + "\\n");
process.on("SIGTERM", () => app.close().then(() => process.exit(0)));
`;

type Runtime = "node" | "tsx";

interface Variant {
  id: "source" | "built";
  label: string;
  runtime: Runtime;
  args: string[];
}

const VARIANTS: Variant[] = [
  {
    id: "source",
    label: "blossom start, sources (tsx)",
    runtime: "tsx",
    args: [...TSX, "apps/blossom/src/main.ts", "start"],
  },
  {
    id: "built",
    label: "blossom start, built (node)",
    runtime: "node",
    args: ["apps/blossom/bin/blossom.js", "start"],
  },
];

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

/** RSS (MiB) of every descendant of `pid` (e.g. an esbuild service tsx may start). */
function descendantsRss(pid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4 (ppid) follows the command name, which is in parentheses and may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // The process ended while we were looking.
    }
  }
  let total = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      queue.push(child);
      try {
        total += memoryOf(child).rss;
      } catch {
        // Gone already.
      }
    }
  }
  return total;
}

async function stop(proc: Proc): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const started = performance.now();
  proc.child.kill("SIGTERM");
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  const { code, signal } = await proc.exited;
  clearTimeout(timer);
  return { code, signal, ms: performance.now() - started };
}

/** Sequential GETs; returns their wall time in ms. Throws on the first non-200 answer. */
async function readMany(url: string, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const response = await fetch(url);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  }
  return performance.now() - started;
}

/** Spawn-to-exit time (ms) of a process that does nothing: the runtime's floor. */
async function floor(runtime: Runtime): Promise<number> {
  const started = performance.now();
  const proc = spawnNode(runtime === "tsx" ? [...TSX, "-e", "0"] : ["-e", "0"]);
  const { code } = await proc.exited;
  if (code !== 0) throw new Error(`${runtime} -e 0 exited ${code}: ${proc.output()}`);
  return performance.now() - started;
}

interface ServerSample {
  readyMs: number;
  printedReadyS?: number;
  rssReady: number;
  rssAfterReads: number;
  peak: number;
  childrenRss: number;
  readsMs: number;
  stopMs: number;
  exitCode: number | null;
  exitSignal: string | null;
}

async function helloServer(runtime: Runtime): Promise<ServerSample> {
  const args = [...(runtime === "tsx" ? TSX : []), "--input-type=module", "-e", HELLO_SERVER];
  const started = performance.now();
  const proc = spawnNode(args);
  try {
    let url: string | undefined;
    while (!url) {
      url = /listening (\S+)/.exec(proc.output())?.[1];
      if (proc.child.exitCode !== null) throw new Error(`hello server exited: ${proc.output()}`);
      if (performance.now() - started > READY_TIMEOUT_MS) throw new Error("hello server never listened");
      if (!url) await sleep(10);
    }
    const pid = proc.child.pid ?? 0;
    const readyMs = performance.now() - started;
    const rssReady = memoryOf(pid).rss;
    const readsMs = await readMany(url, READS);
    const after = memoryOf(pid);
    const childrenRss = descendantsRss(pid);
    const stopped = await stop(proc);
    return {
      readyMs,
      rssReady,
      rssAfterReads: after.rss,
      peak: after.peak,
      childrenRss,
      readsMs,
      stopMs: stopped.ms,
      exitCode: stopped.code,
      exitSignal: stopped.signal,
    };
  } finally {
    if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
  }
}

/** The environment of a default embedded platform: no NATS, no PostgreSQL, all service ports free. */
function blossomEnv(dataDir: string, gatewayPort: number, services: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    "NODE_ENV",
    "PORT",
    "NATS_URL",
    "DATABASE_URL",
    "BLOSSOM_SEED",
    "BLOSSOM_CRASH_POINTS",
    "BLOSSOM_NATS_PREFIX",
  ]) {
    delete env[name];
  }
  for (const service of ["gateway", ...services]) {
    for (const suffix of ["PORT", "URL", "DATABASE_URL", "LOG_LEVEL"])
      delete env[`${service.toUpperCase()}_${suffix}`];
  }
  env.BLOSSOM_DATA_DIR = dataDir;
  env.LOG_LEVEL = "warn";
  env.LOG_FORMAT = "json";
  env.GATEWAY_PORT = String(gatewayPort);
  for (const service of services) env[`${service.toUpperCase()}_PORT`] = "0";
  return env;
}

async function blossomStart(variant: Variant, dataDir: string, services: string[]): Promise<ServerSample> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const proc = spawnNode(variant.args, blossomEnv(dataDir, port, services));
  try {
    for (;;) {
      if (proc.child.exitCode !== null) {
        throw new Error(`exited ${proc.child.exitCode} before it was ready:\n${proc.output().slice(-2000)}`);
      }
      if (performance.now() - started > READY_TIMEOUT_MS) {
        throw new Error(`not ready within ${READY_TIMEOUT_MS} ms:\n${proc.output().slice(-2000)}`);
      }
      const status = await fetch(`${base}/health/ready`).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status;
        },
        () => 0,
      );
      if (status === 200) break;
      await sleep(20);
    }
    const readyMs = performance.now() - started;
    const pid = proc.child.pid ?? 0;
    const rssReady = memoryOf(pid).rss;
    // The ready table is written right after the last listener starts; allow it a moment.
    let printed: string | undefined;
    for (let waited = 0; !printed && waited < 5000; waited += 20) {
      printed = /Blossom is ready \(([\d.]+) s\)/.exec(proc.output())?.[1];
      if (!printed) await sleep(20);
    }
    const readsMs = await readMany(`${base}${CATALOG_PATH}`, READS);
    const after = memoryOf(pid);
    const childrenRss = descendantsRss(pid);
    const stopped = await stop(proc);
    if (stopped.code !== 0) {
      throw new Error(
        `SIGTERM: exited with code ${stopped.code} signal ${stopped.signal}:\n${proc.output().slice(-2000)}`,
      );
    }
    return {
      readyMs,
      ...(printed ? { printedReadyS: Number(printed) } : {}),
      rssReady,
      rssAfterReads: after.rss,
      peak: after.peak,
      childrenRss,
      readsMs,
      stopMs: stopped.ms,
      exitCode: stopped.code,
      exitSignal: stopped.signal,
    };
  } finally {
    if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
  }
}

/** Workspace projects whose sources changed after their last build (the built variant would be stale). */
function staleBuilds(): string[] {
  const stale: string[] = [];
  for (const group of ["packages", "services", "apps"]) {
    for (const name of readdirSync(join(ROOT, group))) {
      const project = join(ROOT, group, name);
      const buildInfo = join(project, "tsconfig.tsbuildinfo");
      if (!existsSync(join(project, "src"))) continue;
      if (!existsSync(buildInfo)) {
        stale.push(`${group}/${name} (never built)`);
        continue;
      }
      const built = statSync(buildInfo).mtimeMs;
      if (newestSource(join(project, "src")) > built) stale.push(`${group}/${name}`);
    }
  }
  return stale;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

interface Series {
  id: string;
  label: string;
  phase: string;
  runtime: Runtime;
  samples: ServerSample[];
  errors: string[];
}

const pick = (series: Series | undefined, key: keyof ServerSample) =>
  median((series?.samples ?? []).map((sample) => sample[key]).filter((v) => typeof v === "number"));

export async function run(options: BenchOptions): Promise<BenchResult> {
  const runs = options.quick ? 1 : 3;
  const loadBefore = loadLine();
  const machineBefore = machine();
  // The service list comes from the platform itself, so a new service also gets port 0. (This
  // loads every service's sources here too: if they do not load, blossom start could not either.)
  const { SERVICE_NAMES } = await import("../apps/blossom/src/topology.js").catch((error: unknown) => {
    throw new Error(`cannot load the platform's service list (apps/blossom/src/topology.ts)`, {
      cause: error,
    });
  });
  const builtSkipped = !existsSync(BUILT_ENTRY)
    ? "skipped: apps/blossom/dist/main.js is missing (run `npm run build` first)"
    : options.quick
      ? "skipped in --quick, to keep the smoke run short (run without --quick to measure it)"
      : undefined;
  const stale = builtSkipped ? [] : staleBuilds();
  const variants = VARIANTS.filter((variant) => variant.id === "source" || !builtSkipped);

  const floors: Record<Runtime, number[]> = { node: [], tsx: [] };
  const hello: Record<Runtime, Series> = {
    node: {
      id: "hello-node",
      label: "fastify hello (node)",
      phase: "-",
      runtime: "node",
      samples: [],
      errors: [],
    },
    tsx: {
      id: "hello-tsx",
      label: "fastify hello (tsx)",
      phase: "-",
      runtime: "tsx",
      samples: [],
      errors: [],
    },
  };
  const series = new Map<string, Series>();
  for (const variant of variants) {
    for (const phase of ["cold", "warm"]) {
      series.set(`${variant.id}-${phase}`, {
        id: `${variant.id}-${phase}`,
        label: variant.label,
        phase,
        runtime: variant.runtime,
        samples: [],
        errors: [],
      });
    }
  }
  const dataDirs: string[] = [];
  try {
    // Round-robin, so a change in machine load during the run affects every row alike.
    for (let round = 1; round <= runs; round++) {
      process.stderr.write(`startup: round ${round}/${runs}: floors, hello servers\n`);
      for (const runtime of ["node", "tsx"] as const) {
        floors[runtime].push(await floor(runtime));
        await helloServer(runtime).then(
          (sample) => hello[runtime].samples.push(sample),
          (error: unknown) => hello[runtime].errors.push(errorMessage(error)),
        );
      }
      for (const variant of variants) {
        const dataDir = await mkdtemp(join(tmpdir(), `blossom-bench-${variant.id}-`));
        dataDirs.push(dataDir);
        let coldFailed = false;
        for (const phase of ["cold", "warm"]) {
          const target = series.get(`${variant.id}-${phase}`);
          if (!target) continue;
          // A warm start after a failed cold one would really be another cold start.
          if (phase === "warm" && coldFailed) {
            target.errors.push(`round ${round}: not run, the cold start on its data dir failed`);
            continue;
          }
          process.stderr.write(`startup: round ${round}/${runs}: ${variant.label}, ${phase}\n`);
          await blossomStart(variant, dataDir, SERVICE_NAMES).then(
            (sample) => target.samples.push(sample),
            (error: unknown) => {
              coldFailed = phase === "cold";
              target.errors.push(errorMessage(error));
            },
          );
        }
      }
    }
  } finally {
    await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }

  const floorMs = { node: median(floors.node), tsx: median(floors.tsx) };
  const all = [...series.values()];
  const timeRows: Cell[][] = [
    [
      "floor: node -e 0",
      "-",
      floorMs.node,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      samples(floors.node),
    ],
    [
      "floor: node + tsx -e 0",
      "-",
      floorMs.tsx,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      samples(floors.tsx),
    ],
    ...(["node", "tsx"] as const).map((runtime) => timeRow(hello[runtime], floorMs[runtime])),
    ...all.map((entry) => timeRow(entry, floorMs[entry.runtime])),
  ];
  const memoryRows: Cell[][] = [
    ...(["node", "tsx"] as const).map((runtime) => memoryRow(hello[runtime], undefined)),
    ...all.map((entry) => memoryRow(entry, hello[entry.runtime])),
  ];

  if (builtSkipped) {
    const built = VARIANTS.find((variant) => variant.id === "built");
    timeRows.push([built?.label, "cold, warm", "not measured (see note)"]);
    memoryRows.push([built?.label, "cold, warm", "not measured (see note)"]);
  }

  const notes: string[] = builtSkipped ? [`built variant ${builtSkipped}`] : [];
  for (const entry of [hello.node, hello.tsx, ...all]) {
    for (const error of entry.errors) notes.push(`FAILED ${entry.label} ${entry.phase}: ${error}`);
  }
  if (stale.length > 0) {
    notes.push(`built variant may be stale: sources newer than the last build in ${stale.join(", ")}`);
  }

  const title = `startup: blossom start, whole platform in one process (gateway + ${SERVICE_NAMES.length} services, PGlite, memory bus); median of ${runs}`;
  const text = [
    title,
    `  ${loadBefore} (before)`,
    "",
    table(
      "time (ms unless stated); x floor = spawn->ready / the same runtime's spawn->exit of an empty script",
      [
        "process",
        "phase",
        "spawn->ready ms",
        'printed "ready" s',
        "x floor",
        `${READS} reads ms`,
        "SIGTERM->exit ms",
        "exit",
        "samples spawn->ready ms",
      ],
      timeRows,
    ),
    table(
      `memory (MiB, VmRSS of the process; x hello = the same runtime's bare Fastify server at the same point; reads = ${READS} sequential GET ${CATALOG_PATH} through the gateway, / on hello)`,
      [
        "process",
        "phase",
        "RSS ready",
        `RSS after ${READS} reads`,
        "peak (VmHWM)",
        "children RSS",
        "x hello ready",
        "x hello after reads",
      ],
      memoryRows,
    ),
    ...notes.map((note) => `  note: ${note}`),
    `  ${loadLine()} (after)`,
    "",
  ].join("\n");

  const summarize = (entry: Series) => ({
    id: entry.id,
    label: entry.label,
    phase: entry.phase,
    runtime: entry.runtime,
    samples: entry.samples,
    errors: entry.errors,
    median: {
      readyMs: pick(entry, "readyMs"),
      printedReadyS: pick(entry, "printedReadyS"),
      rssReadyMiB: pick(entry, "rssReady"),
      rssAfterReadsMiB: pick(entry, "rssAfterReads"),
      peakMiB: pick(entry, "peak"),
      childrenRssMiB: pick(entry, "childrenRss"),
      readsMs: pick(entry, "readsMs"),
      stopMs: pick(entry, "stopMs"),
    },
  });
  return {
    name: "startup",
    text,
    failed: [hello.node, hello.tsx, ...all].some((entry) => entry.errors.length > 0),
    json: {
      benchmark: "startup",
      finishedAt: new Date().toISOString(),
      quick: options.quick,
      runs,
      units: { time: "ms (printedReadyS: s)", memory: "MiB" },
      reads: READS,
      catalogPath: CATALOG_PATH,
      machineBefore,
      machineAfter: machine(),
      floorsMs: { node: floors.node, tsx: floors.tsx, medianNode: floorMs.node, medianTsx: floorMs.tsx },
      hello: [summarize(hello.node), summarize(hello.tsx)],
      blossom: all.map(summarize),
      builtVariant: builtSkipped ?? (stale.length > 0 ? { staleProjects: stale } : "measured"),
      notes,
    },
  };
}

function samples(values: number[]): string {
  return values.map((value) => Math.round(value)).join(" ");
}

function exits(entry: Series): string {
  return [...new Set(entry.samples.map((sample) => sample.exitCode ?? sample.exitSignal))].join(",");
}

function timeRow(entry: Series, floorMs: number | undefined): Cell[] {
  if (entry.samples.length === 0) return [entry.label, entry.phase, "FAILED (see note)"];
  const ready = pick(entry, "readyMs");
  return [
    entry.label,
    entry.phase,
    ready,
    pick(entry, "printedReadyS"),
    ratio(ready, floorMs),
    pick(entry, "readsMs"),
    pick(entry, "stopMs"),
    exits(entry),
    samples(entry.samples.map((sample) => sample.readyMs)),
  ];
}

function memoryRow(entry: Series, hello: Series | undefined): Cell[] {
  if (entry.samples.length === 0) return [entry.label, entry.phase, "FAILED (see note)"];
  const ready = pick(entry, "rssReady");
  const after = pick(entry, "rssAfterReads");
  return [
    entry.label,
    entry.phase,
    ready,
    after,
    pick(entry, "peak"),
    pick(entry, "childrenRss"),
    hello ? ratio(ready, pick(hello, "rssReady")) : undefined,
    hello ? ratio(after, pick(hello, "rssAfterReads")) : undefined,
  ];
}
