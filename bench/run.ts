/**
 * Blossom benchmarks. Every figure is printed next to a baseline measured in the same run, so
 * ratios stay meaningful on a busy or different machine.
 *
 *   npm run bench                       every benchmark
 *   npm run bench -- events startup     a subset
 *   npm run bench -- startup            blossom start built / from sources: first-ever, cold, warm and
 *                                       after kill -9 start-up time and memory, against node/tsx floors
 *   npm run bench -- gateway            product reads: bare Fastify + Kysely / inventory direct / through
 *                                       nginx / through the gateway; the gateway against nginx in front
 *                                       of a trivial server: anonymous, authenticated, Redis rate limit
 *   npm run bench -- telemetry          product read and checkout throughput, telemetry on vs off
 *   npm run bench -- checkout           checkout throughput and latency, embedded vs cluster; catalog
 *                                       reads with 1 vs 2 inventory replicas
 *   npm run bench -- overload           goodput under overload, embedded: checkouts at saturation (closed
 *                                       loop), then offered at 2x and 4x that rate (open loop): confirmed/s,
 *                                       503s shed, other errors, p50/p99; catalog reads at saturation and 2x
 *   npm run bench -- console            checkout throughput with the operations console closed vs open
 *                                       (an admin's overview and logs live-tail tabs polling), alternating
 *                                       on one embedded platform; the console's in-memory buffers filled
 *                                       to capacity, with the heap they take
 *   npm run bench -- --quick            short smoke run (fewer events, one repetition)
 *   npm run bench -- events --store postgres   events on the local PostgreSQL server
 *
 * Tables go to stdout, progress to stderr, results to bench/results/<name>.json.
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { type BenchOptions, type BenchResult, errorMessage, loadLine, writeResult } from "./report.js";

const BENCHMARKS: Record<string, () => Promise<{ run(options: BenchOptions): Promise<BenchResult> }>> = {
  events: () => import("./events.js"),
  startup: () => import("./startup.js"),
  gateway: () => import("./gateway.js"),
  telemetry: () => import("./telemetry.js"),
  checkout: () => import("./checkout.js"),
  overload: () => import("./overload.js"),
  console: () => import("./console.js"),
};

const USAGE = `usage: npm run bench -- [${Object.keys(BENCHMARKS).join("|")} ...] [--quick] [--store pglite|postgres]
  --quick            short smoke run
  --store <kind>     database of the events and gateway benchmarks: pglite (default, temp dir) or postgres
                     (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres)
  NATS: BENCH_NATS_URL, default nats://127.0.0.1:4222
  BENCH_BLOSSOM_ENTRY: what blossom runs, built (default: the build, as npm start runs it; refused when older
           than a source: run npm run build) or source (the TypeScript sources through tsx)
  startup: BENCH_STARTUP_ROUNDS (samples of every row in a full run, default 3; --quick 1)
  gateway: BENCH_GATEWAY_DURATION (s, default 5), BENCH_GATEWAY_CONNECTIONS (20), BENCH_GATEWAY_ROUNDS (2),
           BENCH_GATEWAY_NGINX (/usr/sbin/nginx), BENCH_GATEWAY_CPU_PROF (dir for the gateway's --cpu-prof),
           BENCH_REDIS_URL (the Redis rate-limit row; default redis://127.0.0.1:6379, skipped if unreachable);
           --store postgres: inventory and the bare Fastify + Kysely server on BENCH_POSTGRES_URL
  telemetry: BENCH_TELEMETRY_DURATION (s, default 5), BENCH_TELEMETRY_CONNECTIONS (10), BENCH_TELEMETRY_ROUNDS (2),
             BENCH_TELEMETRY_ORDERS (40 per round), BENCH_TELEMETRY_CUSTOMERS (8),
             BENCH_TELEMETRY_CPU_PROF (dir for the telemetry-on platform's --cpu-prof)
  checkout: BENCH_CHECKOUT_DURATION (s of the saturation phase, default 15; --quick 4),
            BENCH_CHECKOUT_ORDERS (a fixed number of saturation orders instead of a duration),
            BENCH_CHECKOUT_CUSTOMERS (16), BENCH_CHECKOUT_POLL_MS (unset: Prefer: wait),
            BENCH_CHECKOUT_PACED_DURATION (s, default BENCH_CHECKOUT_DURATION),
            BENCH_CHECKOUT_PACED_RATE (orders/s, default half the saturation rate), BENCH_CHECKOUT_PACED_POLL_MS (unset),
            BENCH_CHECKOUT_MAX_IN_FLIGHT (64), BENCH_CHECKOUT_REPLICAS (--replicas of the checkout cluster, default 2),
            BENCH_CHECKOUT_READ_DURATION (s, default 5; --quick 2), BENCH_CHECKOUT_READ_CONNECTIONS (20),
            BENCH_CHECKOUT_PARTS (embedded,cluster,reads), BENCH_CHECKOUT_CPU_PROF (dir for every platform process's --cpu-prof), BENCH_CHECKOUT_TELEMETRY (off | without=pg,undici); cluster servers: BENCH_POSTGRES_URL, BENCH_NATS_URL,
            BENCH_REDIS_URL (default redis://127.0.0.1:6379); without them the cluster parts are skipped
  overload: BENCH_OVERLOAD_DURATION (s per phase, default 10; --quick 4), BENCH_OVERLOAD_CUSTOMERS (16),
            BENCH_OVERLOAD_READ_CONNECTIONS (20), BENCH_OVERLOAD_MAX_PENDING (ORDERS_MAX_PENDING_CHECKOUTS; default the service's)
  console: BENCH_CONSOLE_DURATION (s per phase, default 10; --quick 3), BENCH_CONSOLE_ROUNDS (2; each a closed and
           an open phase), BENCH_CONSOLE_CUSTOMERS (16), BENCH_CONSOLE_TABS (overview,logs; also map, sagas),
           BENCH_CONSOLE_LOG_LEVEL (the platform's LOG_LEVEL, default warn; info: access lines in the log rings)
`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      store: { type: "string", default: "pglite" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return void process.stdout.write(USAGE);
  const unknown = positionals.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0 || (values.store !== "pglite" && values.store !== "postgres")) {
    process.stderr.write(
      `bench: ${unknown.length > 0 ? `unknown benchmark(s) ${unknown.join(", ")}` : `unknown store ${values.store}`}\n${USAGE}`,
    );
    process.exitCode = 2;
    return;
  }
  const options: BenchOptions = { quick: values.quick, store: values.store };
  const names = positionals.length > 0 ? positionals : Object.keys(BENCHMARKS);

  const started = performance.now();
  process.stdout.write(
    `Blossom benchmarks${options.quick ? " (--quick)" : ""}: ${names.join(", ")}; node ${process.version}; blossom from the ${process.env.BENCH_BLOSSOM_ENTRY === "source" ? "sources (tsx)" : "build"} (BENCH_BLOSSOM_ENTRY); ${loadLine()}\n\n`,
  );
  for (const name of names) {
    const load = BENCHMARKS[name];
    if (!load) continue;
    const benchStarted = performance.now();
    try {
      const benchmark = await load();
      const result = await benchmark.run(options);
      process.stdout.write(`${result.text}\n`);
      const file = await writeResult(result);
      const seconds = ((performance.now() - benchStarted) / 1000).toFixed(1);
      process.stdout.write(`  ${name} took ${seconds} s -> ${relative(process.cwd(), file)}\n\n`);
      if (result.failed) process.exitCode = 1;
    } catch (error) {
      // One broken benchmark must not hide the others' figures.
      process.stdout.write(`${name}: FAILED: ${errorMessage(error)}\n\n`);
      process.stderr.write(`${name}: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    }
  }
  process.stdout.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s; ${loadLine()}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
