/**
 * Start-up time and memory of `blossom start` (the whole platform in one process), built and from
 * the sources, against baselines measured in the same run: the runtime floor (`node -e 0`, and
 * with tsx loaded) and a bare Fastify hello server.
 *
 * Each variant is started four ways, in this order, on data directories of its own:
 *   first-ever     empty data dir and an empty TMPDIR: the cached initialised PGlite cluster that
 *                  new clusters are copied from (packages/store/src/pglite/pglite-template.ts,
 *                  `os.tmpdir()/blossom-pglite-template-<version>-<uid>`) is rebuilt (initdb)
 *   cold           empty data dir, that template cache present (the same TMPDIR, now filled)
 *   warm           the cold start's data dir again; once measured, it is killed with SIGKILL
 *   after kill -9  the same dir again: PostgreSQL recovers, and the data-dir lock file the killed
 *                  process left behind is taken over
 * Every start but the killed one ends with SIGTERM and must exit 0. Every start runs with a
 * TMPDIR of its round, so nothing is read from or written to the machine's own template cache;
 * tsx's transform cache (also under the temp dir) is linked in, so that "first-ever" differs
 * from "cold" only by the template. Ports are all chosen by the OS (gateway, services, gateway
 * metrics), so a running `npm start` does not disturb the run.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { constants, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type BlossomProcess as Proc, spawnNode } from "@blossom/testkit";
import { staleBuilds } from "./blossom-build.js";
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
  withinTarget,
  withTimeout,
} from "./report.js";
import { positiveInteger } from "./settings.js";

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
    id: "built",
    label: "blossom start, built (node)",
    runtime: "node",
    args: ["apps/blossom/bin/blossom.js", "start"],
  },
  {
    id: "source",
    label: "blossom start, sources (tsx)",
    runtime: "tsx",
    args: [...TSX, "apps/blossom/src/main.ts", "start"],
  },
];

const PHASES = ["first-ever", "cold", "warm", "after kill -9"] as const;
type Phase = (typeof PHASES)[number];

/** Spawn -> "Blossom is ready" targets, ms (none for a first-ever start). */
const READY_TARGET_MS: Partial<Record<Phase, number>> = { cold: 5000, warm: 3000, "after kill -9": 4000 };
/** VmRSS target right after "Blossom is ready", MiB (every phase). */
const RSS_TARGET_MIB = 350;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

// ---------------------------------------------------------------------------------------------
// Every process this benchmark starts, so that none outlives it, whatever happens.

const running = new Set<Proc>();

function spawnTracked(args: string[], env?: NodeJS.ProcessEnv): Proc {
  const proc = spawnNode(args, env);
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return proc;
}

/** SIGKILL to every process still running and to its descendants (synchronous: usable on exit). */
function killEverything(): void {
  for (const proc of running) {
    const pid = proc.child.pid;
    if (pid === undefined || proc.child.exitCode !== null || proc.child.signalCode !== null) continue;
    for (const child of descendants(pid)) {
      try {
        process.kill(child, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    proc.child.kill("SIGKILL");
  }
}

async function killAndWait(): Promise<void> {
  killEverything();
  await withTimeout(
    Promise.all([...running].map((proc) => proc.exited)),
    10_000,
    "processes still running after SIGKILL",
  ).catch((error: unknown) => process.stderr.write(`startup: ${errorMessage(error)}\n`));
}

// ---------------------------------------------------------------------------------------------
// /proc readings (Linux).

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

/** Every descendant of `pid` (e.g. an esbuild service tsx may start). */
function descendants(pid: number): number[] {
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
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      queue.push(child);
      found.push(child);
    }
  }
  return found;
}

/** RSS (MiB) of every descendant of `pid`. */
function descendantsRss(pid: number): number {
  let total = 0;
  for (const child of descendants(pid)) {
    try {
      total += memoryOf(child).rss;
    } catch {
      // Gone already.
    }
  }
  return total;
}

const load1 = () => loadavg()[0] ?? Number.NaN;

// ---------------------------------------------------------------------------------------------
// The PGlite template cache and the data-dir lock, as the store derives them.

/** The name pglite-template.ts gives the template cache: `blossom-pglite-template-<version>-<uid>`. */
function templateName(): string {
  // Resolved from the store package, as the store resolves it (the package does not export its package.json).
  const entry = createRequire(join(ROOT, "packages/store/package.json")).resolve("@electric-sql/pglite");
  const { version } = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as {
    version: string;
  };
  const user = typeof process.getuid === "function" ? process.getuid() : "user";
  return `blossom-pglite-template-${version}-${user}`;
}

/** Whether `tempDir` holds an initialised template cache (the test pglite-template.ts makes). */
function templateCached(tempDir: string): boolean {
  return existsSync(join(tempDir, templateName(), "PG_VERSION"));
}

/** Template caches in `tempDir` under any name: to tell a renamed cache from a missing one. */
function anyTemplate(tempDir: string): string[] {
  return readdirSync(tempDir).filter((name) => name.startsWith("blossom-pglite-template-"));
}

/** The pid in the embedded cluster's lock file (`<BLOSSOM_DATA_DIR>/pglite.lock`, data-dir-lock.ts), if any. */
function lockOwner(dataDir: string): number | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(join(dataDir, "pglite.lock"), "utf8")) as { pid?: unknown };
    return typeof pid === "number" ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A fresh TMPDIR for one round of one variant: empty but for a link to tsx's transform cache
 * (`<tmpdir>/tsx-<euid>`), so that the sources variant's first-ever start does not also pay for
 * compiling every file.
 */
async function freshTempDir(parent: string): Promise<string> {
  const dir = join(parent, "tmp");
  await mkdir(dir);
  const user = typeof process.geteuid === "function" ? process.geteuid() : undefined;
  if (user !== undefined) {
    const tsxCache = join(tmpdir(), `tsx-${user}`);
    mkdirSync(tsxCache, { recursive: true });
    await symlink(tsxCache, join(dir, `tsx-${user}`));
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Baselines.

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
  const proc = spawnTracked(runtime === "tsx" ? [...TSX, "-e", "0"] : ["-e", "0"]);
  const { code } = await proc.exited;
  if (code !== 0) throw new Error(`${runtime} -e 0 exited ${code}: ${proc.output()}`);
  return performance.now() - started;
}

interface ServerSample {
  readyMs: number;
  printedReadyS?: number;
  rssReady: number;
  peakReady: number;
  rssAfterReads: number;
  peakAfterReads: number;
  childrenRss: number;
  readsMs: number;
  /** Undefined for the start that is killed. */
  stopMs?: number;
  exitCode: number | null;
  exitSignal: string | null;
  /** 1-minute load average when the process was spawned. */
  load: number;
  /** After kill -9: the pid in the lock file the killed process left behind, when there was one. */
  staleLockPid?: number;
}

async function helloServer(runtime: Runtime): Promise<ServerSample> {
  const args = [...(runtime === "tsx" ? TSX : []), "--input-type=module", "-e", HELLO_SERVER];
  const load = load1();
  const started = performance.now();
  const proc = spawnTracked(args);
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
    const ready = memoryOf(pid);
    const readsMs = await readMany(url, READS);
    const after = memoryOf(pid);
    const childrenRss = descendantsRss(pid);
    const stopped = await stop(proc);
    return {
      readyMs,
      rssReady: ready.rss,
      peakReady: ready.peak,
      rssAfterReads: after.rss,
      peakAfterReads: after.peak,
      childrenRss,
      readsMs,
      stopMs: stopped.ms,
      exitCode: stopped.code,
      exitSignal: stopped.signal,
      load,
    };
  } finally {
    if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
  }
}

// ---------------------------------------------------------------------------------------------
// blossom start.

/**
 * The environment of a default embedded platform: no NATS, no PostgreSQL, no Redis, no tracing,
 * every port chosen by the OS, `tempDir` as the temp dir (where the PGlite template cache lives).
 */
function blossomEnv(dataDir: string, tempDir: string, services: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const inherited = [
    "NODE_ENV",
    "NODE_OPTIONS",
    "PORT",
    "HOST",
    "NATS_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "LOG_LEVEL",
    "LOG_FORMAT",
  ];
  const prefixes = [
    "BLOSSOM_",
    "GATEWAY_",
    "OTEL_",
    ...services.map((service) => `${service.toUpperCase()}_`),
  ];
  for (const name of Object.keys(env)) {
    if (inherited.includes(name) || prefixes.some((prefix) => name.startsWith(prefix))) delete env[name];
  }
  env.TMPDIR = tempDir;
  env.BLOSSOM_DATA_DIR = dataDir;
  env.LOG_LEVEL = "warn";
  env.LOG_FORMAT = "json";
  env.GATEWAY_PORT = "0";
  env.GATEWAY_METRICS_PORT = "0";
  for (const service of services) env[`${service.toUpperCase()}_PORT`] = "0";
  return env;
}

interface StartOptions {
  dataDir: string;
  tempDir: string;
  services: string[];
  /** How the process ends once measured: SIGTERM (must exit 0) or SIGKILL (leaves its lock behind). */
  end: "SIGTERM" | "SIGKILL";
}

/**
 * Resolves with the time "Blossom is ready" reached stdout (seen as it arrives, not polled);
 * rejects if the process exits first or is not ready within READY_TIMEOUT_MS.
 */
function readyLine(proc: Proc): Promise<number> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      proc.child.stdout?.off("data", onData);
      fail(new Error(`not ready within ${READY_TIMEOUT_MS} ms:\n${proc.output().slice(-2000)}`));
    }, READY_TIMEOUT_MS);
    function onData() {
      if (!proc.output().includes("Blossom is ready")) return;
      proc.child.stdout?.off("data", onData);
      clearTimeout(timer);
      done(performance.now());
    }
    proc.child.stdout?.on("data", onData);
    void proc.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`exited (${code ?? signal}) before it was ready:\n${proc.output().slice(-2000)}`));
    });
  });
}

async function blossomStart(variant: Variant, options: StartOptions): Promise<ServerSample> {
  const staleLockPid = lockOwner(options.dataDir);
  const load = load1();
  const started = performance.now();
  const proc = spawnTracked(variant.args, blossomEnv(options.dataDir, options.tempDir, options.services));
  try {
    const readyAt = await readyLine(proc);
    const pid = proc.child.pid ?? 0;
    const ready = memoryOf(pid);
    // The ready table is written in one piece; the gateway's row gives its OS-chosen port.
    let gateway: string | undefined;
    for (let waited = 0; !gateway && waited < 5000; waited += 20) {
      gateway = /^\s*gateway\s+(https?:\/\/\S+)/m.exec(proc.output())?.[1];
      if (!gateway) await sleep(20);
    }
    if (!gateway) throw new Error(`no gateway URL in the ready table:\n${proc.output().slice(-2000)}`);
    const printed = /Blossom is ready \(([\d.]+) s\)/.exec(proc.output())?.[1];
    if (staleLockPid !== undefined && lockOwner(options.dataDir) !== pid) {
      throw new Error(`ready, but the lock file names pid ${lockOwner(options.dataDir)}, not ${pid}`);
    }
    const readsMs = await readMany(`${gateway}${CATALOG_PATH}`, READS);
    const after = memoryOf(pid);
    const childrenRss = descendantsRss(pid);
    const sample: ServerSample = {
      readyMs: readyAt - started,
      ...(printed ? { printedReadyS: Number(printed) } : {}),
      rssReady: ready.rss,
      peakReady: ready.peak,
      rssAfterReads: after.rss,
      peakAfterReads: after.peak,
      childrenRss,
      readsMs,
      exitCode: null,
      exitSignal: null,
      load,
      ...(staleLockPid !== undefined ? { staleLockPid } : {}),
    };
    if (options.end === "SIGKILL") {
      // As `kill -9 <pid>` would: the process only (a child of tsx, if any, ends with its parent).
      proc.child.kill("SIGKILL");
      const { code, signal } = await proc.exited;
      if (lockOwner(options.dataDir) !== pid) {
        throw new Error(`killed, but left no lock file of its own (${join(options.dataDir, "pglite.lock")})`);
      }
      return { ...sample, exitCode: code, exitSignal: signal };
    }
    const stopped = await stop(proc);
    if (stopped.code !== 0) {
      throw new Error(
        `SIGTERM: exited with code ${stopped.code} signal ${stopped.signal}:\n${proc.output().slice(-2000)}`,
      );
    }
    return { ...sample, stopMs: stopped.ms, exitCode: stopped.code, exitSignal: stopped.signal };
  } finally {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
  }
}

interface Series {
  id: string;
  label: string;
  phase: Phase | "-";
  runtime: Runtime;
  samples: ServerSample[];
  errors: string[];
}

const pick = (series: Series | undefined, key: keyof ServerSample) =>
  median((series?.samples ?? []).map((sample) => sample[key]).filter((v) => typeof v === "number"));

/**
 * One round of one variant: first-ever, cold, warm (killed), after kill -9, in `dir` (removed
 * afterwards). A phase whose premise failed (no template cache for "cold", no cold data dir for
 * "warm", no killed process for "after kill -9") is reported as not run rather than measured as
 * something else.
 */
async function variantRound(
  variant: Variant,
  dir: string,
  services: string[],
  target: (phase: Phase) => Series,
  round: string,
): Promise<void> {
  const tempDir = await freshTempDir(dir);
  const firstDir = join(dir, "first-ever");
  const dataDir = join(dir, "data");
  const progress = (phase: Phase) => process.stderr.write(`startup: ${round}: ${variant.label}, ${phase}\n`);
  const notRun = (phase: Phase, why: string) => target(phase).errors.push(`${round}: not run: ${why}`);
  const measure = async (phase: Phase, options: StartOptions): Promise<boolean> => {
    progress(phase);
    return blossomStart(variant, options).then(
      (sample) => {
        target(phase).samples.push(sample);
        return true;
      },
      (error: unknown) => {
        target(phase).errors.push(`${round}: ${errorMessage(error)}`);
        return false;
      },
    );
  };

  if (anyTemplate(tempDir).length > 0) throw new Error(`${tempDir} already holds a template cache`);
  await measure("first-ever", { dataDir: firstDir, tempDir, services, end: "SIGTERM" });
  if (!templateCached(tempDir)) {
    const others = anyTemplate(tempDir);
    const why =
      others.length > 0
        ? `the first-ever start cached its template as ${others.join(", ")}, not ${templateName()}: bench/startup.ts no longer derives the name as pglite-template.ts does`
        : `no template cache in ${tempDir} after the first-ever start (it failed, or the cache is no longer under os.tmpdir())`;
    for (const phase of ["cold", "warm", "after kill -9"] as const) notRun(phase, why);
    return;
  }
  if (!(await measure("cold", { dataDir, tempDir, services, end: "SIGTERM" }))) {
    notRun("warm", "the cold start on its data dir failed");
    notRun("after kill -9", "the cold start on its data dir failed");
    return;
  }
  if (!(await measure("warm", { dataDir, tempDir, services, end: "SIGKILL" }))) {
    notRun("after kill -9", "the warm start, which is the one killed, failed");
    return;
  }
  await measure("after kill -9", { dataDir, tempDir, services, end: "SIGTERM" });
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  // Rounds (each samples every row once): BENCH_STARTUP_ROUNDS in a full run, default 3; --quick runs one.
  const runs = options.quick ? 1 : positiveInteger("BENCH_STARTUP_ROUNDS", 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_STARTUP_ROUNDS must be a positive integer`);
  const loadBefore = loadLine();
  const machineBefore = machine();
  // The service list comes from the platform itself, so a new service also gets port 0. (This
  // loads every service's sources here too: if they do not load, blossom start could not either.)
  const { SERVICE_NAMES } = await import("../apps/blossom/src/topology.js").catch((error: unknown) => {
    throw new Error(`cannot load the platform's service list (apps/blossom/src/topology.ts)`, {
      cause: error,
    });
  });
  const builtSkipped = existsSync(BUILT_ENTRY)
    ? undefined
    : "skipped: apps/blossom/dist/main.js is missing (run `npm run build` first)";
  const stale = builtSkipped ? [] : staleBuilds();
  const variants = VARIANTS.filter((variant) => variant.id === "source" || !builtSkipped);

  const floors: Record<Runtime, number[]> = { node: [], tsx: [] };
  const helloSeries = (runtime: Runtime): Series => ({
    id: `hello-${runtime}`,
    label: `fastify hello (${runtime})`,
    phase: "-",
    runtime,
    samples: [],
    errors: [],
  });
  const hello: Record<Runtime, Series> = { node: helloSeries("node"), tsx: helloSeries("tsx") };
  const series = new Map<string, Series>();
  for (const variant of variants) {
    for (const phase of PHASES) {
      series.set(`${variant.id}/${phase}`, {
        id: `${variant.id}-${phase.replaceAll(/\W+/g, "-")}`,
        label: variant.label,
        phase,
        runtime: variant.runtime,
        samples: [],
        errors: [],
      });
    }
  }

  const root = await mkdtemp(join(tmpdir(), "blossom-bench-startup-"));
  // Ctrl-C or a kill of this process must not leave a platform running (nor its data behind).
  const onSignal = (signal: NodeJS.Signals) => {
    killEverything();
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    process.exit(128 + (constants.signals[signal] ?? 0));
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const signal of signals) process.on(signal, onSignal);
  process.on("exit", killEverything);
  try {
    // Round-robin, so a change in machine load during the run affects every row alike.
    for (let round = 1; round <= runs; round++) {
      const name = `round ${round}/${runs}`;
      process.stderr.write(`startup: ${name}: floors, hello servers\n`);
      for (const runtime of ["node", "tsx"] as const) {
        floors[runtime].push(await floor(runtime));
        await helloServer(runtime).then(
          (sample) => hello[runtime].samples.push(sample),
          (error: unknown) => hello[runtime].errors.push(errorMessage(error)),
        );
      }
      for (const variant of variants) {
        const dir = join(root, `${round}-${variant.id}`);
        await mkdir(dir);
        const target = (phase: Phase) => {
          const found = series.get(`${variant.id}/${phase}`);
          if (!found) throw new Error(`no series ${variant.id}/${phase}`);
          return found;
        };
        try {
          await variantRound(variant, dir, SERVICE_NAMES, target, name);
        } catch (error) {
          target("first-ever").errors.push(`${name}: ${errorMessage(error)}`);
        } finally {
          await killAndWait();
          // A round's clusters (a few tens of MB each) go as soon as they are measured.
          await rm(dir, { recursive: true, force: true, maxRetries: 3 });
        }
      }
    }
  } finally {
    await killAndWait();
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
    for (const signal of signals) process.off(signal, onSignal);
    process.off("exit", killEverything);
  }

  const floorMs = { node: median(floors.node), tsx: median(floors.tsx) };
  const all = [...series.values()];
  const floorRow = (label: string, values: number[]): Cell[] => [
    label,
    "-",
    median(values),
    ...Array.from({ length: 7 }, () => undefined),
    samples(values),
  ];
  const timeRows: Cell[][] = [
    floorRow("floor: node -e 0", floors.node),
    floorRow("floor: node + tsx -e 0", floors.tsx),
    ...(["node", "tsx"] as const).map((runtime) => timeRow(hello[runtime], floorMs[runtime])),
    ...all.map((entry) => timeRow(entry, floorMs[entry.runtime])),
  ];
  const memoryRows: Cell[][] = [
    ...(["node", "tsx"] as const).map((runtime) => memoryRow(hello[runtime], undefined)),
    ...all.map((entry) => memoryRow(entry, hello[entry.runtime])),
  ];

  if (builtSkipped) {
    const built = VARIANTS.find((variant) => variant.id === "built");
    timeRows.push([built?.label, "all", "not measured (see note)"]);
    memoryRows.push([built?.label, "all", "not measured (see note)"]);
  }

  const notes: string[] = builtSkipped ? [`built variant ${builtSkipped}`] : [];
  for (const entry of [hello.node, hello.tsx, ...all]) {
    for (const error of entry.errors) notes.push(`FAILED ${entry.label} ${entry.phase}: ${error}`);
  }
  if (stale.length > 0) {
    notes.push(`built variant may be stale: sources newer than the last build in ${stale.join(", ")}`);
  }

  const targets = all
    .filter((entry) => entry.samples.length > 0)
    .map((entry) => {
      const readyMs = pick(entry, "readyMs");
      const rssReady = pick(entry, "rssReady");
      const readyTarget = entry.phase === "-" ? undefined : READY_TARGET_MS[entry.phase];
      return {
        id: entry.id,
        ready:
          readyTarget === undefined
            ? undefined
            : { ms: readyMs, targetMs: readyTarget, met: met(readyMs, readyTarget) },
        rss: { mib: rssReady, targetMiB: RSS_TARGET_MIB, met: met(rssReady, RSS_TARGET_MIB) },
      };
    });
  const missed = targets.flatMap((entry) => [
    ...(entry.ready?.met === false ? [`${entry.id} ready`] : []),
    ...(entry.rss.met === false ? [`${entry.id} RSS`] : []),
  ]);

  const title = `startup: blossom start, whole platform in one process (gateway + ${SERVICE_NAMES.length} services, one PGlite cluster, memory bus); median of ${runs}`;
  const text = [
    title,
    `  ${loadBefore} (before)`,
    "  phases: first-ever = empty data dir, empty TMPDIR (the PGlite template cache is rebuilt: initdb);",
    "          cold = empty data dir, template cached; warm = the same dir again (then killed with SIGKILL);",
    "          after kill -9 = the same dir again (recovery; the dead process's lock file taken over)",
    `  targets: spawn->ready <= ${READY_TARGET_MS.cold} ms cold, <= ${READY_TARGET_MS.warm} ms warm, <= ${READY_TARGET_MS["after kill -9"]} ms after kill -9; RSS at ready <= ${RSS_TARGET_MIB} MiB`,
    "",
    table(
      'time (ms unless stated); spawn->ready = until "Blossom is ready" is on stdout; x floor = spawn->ready / the same runtime\'s spawn->exit of an empty script',
      [
        "process",
        "phase",
        "spawn->ready ms",
        "target",
        'printed "ready" s',
        "x floor",
        `${READS} reads ms`,
        "SIGTERM->exit ms",
        "exit",
        "load 1m",
        "samples spawn->ready ms",
      ],
      timeRows,
    ),
    table(
      `memory (MiB, VmRSS / VmHWM of the process; x hello = RSS at ready / the same runtime's bare Fastify server's; reads = ${READS} sequential GET ${CATALOG_PATH} through the gateway, / on hello)`,
      [
        "process",
        "phase",
        "RSS ready",
        "target",
        "peak at ready",
        `RSS after ${READS} reads`,
        "peak after reads",
        "children RSS",
        "x hello ready",
      ],
      memoryRows,
    ),
    `  targets missed: ${missed.length > 0 ? missed.join(", ") : targets.length > 0 ? "none" : "nothing measured"}`,
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
      peakReadyMiB: pick(entry, "peakReady"),
      rssAfterReadsMiB: pick(entry, "rssAfterReads"),
      peakAfterReadsMiB: pick(entry, "peakAfterReads"),
      childrenRssMiB: pick(entry, "childrenRss"),
      readsMs: pick(entry, "readsMs"),
      stopMs: pick(entry, "stopMs"),
      load: pick(entry, "load"),
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
      phases: PHASES,
      targets: { readyMs: READY_TARGET_MS, rssReadyMiB: RSS_TARGET_MIB, results: targets, missed },
      reads: READS,
      catalogPath: CATALOG_PATH,
      templateCache: templateName(),
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

function met(value: number | undefined, limit: number): boolean | undefined {
  return value === undefined ? undefined : value <= limit;
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
  const limit = entry.phase === "-" ? undefined : READY_TARGET_MS[entry.phase];
  return [
    entry.label,
    entry.phase,
    ready,
    limit === undefined ? undefined : withinTarget(ready, limit),
    pick(entry, "printedReadyS"),
    ratio(ready, floorMs),
    pick(entry, "readsMs"),
    pick(entry, "stopMs"),
    exits(entry),
    pick(entry, "load"),
    samples(entry.samples.map((sample) => sample.readyMs)),
  ];
}

function memoryRow(entry: Series, hello: Series | undefined): Cell[] {
  if (entry.samples.length === 0) return [entry.label, entry.phase, "FAILED (see note)"];
  const ready = pick(entry, "rssReady");
  return [
    entry.label,
    entry.phase,
    ready,
    hello ? withinTarget(ready, RSS_TARGET_MIB) : undefined,
    pick(entry, "peakReady"),
    pick(entry, "rssAfterReads"),
    pick(entry, "peakAfterReads"),
    pick(entry, "childrenRss"),
    hello ? ratio(ready, pick(hello, "rssReady")) : undefined,
  ];
}
