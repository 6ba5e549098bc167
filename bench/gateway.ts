/**
 * Requests/s and latency of one product read (`GET /api/inventory/products/:id`) direct to the
 * inventory service, through nginx as a plain reverse proxy (when `/usr/sbin/nginx` exists) and
 * through the gateway (edge JWT verification and rate limiting on), all measured in the same run.
 * A bare Fastify server answering the same JSON without a database (the floor) is measured too,
 * alone and behind the same two proxies: the inventory service's database read costs far more
 * than either proxy, so the proxies' own costs show only in front of the floor. A second
 * gateway in front of the floor runs with OTEL_SDK_DISABLED=true, to show what tracing costs.
 * Each row also reports the CPU time its own process (the proxy, or the server) spent per
 * request, a figure that a busy machine distorts much less than requests/s.
 *
 * Users, inventory and the gateway run as separate `blossom start <name>` processes, so the
 * load generator (autocannon, in this process), the gateway and the service never share an
 * event loop. Every request carries the same bearer token, so the inventory service verifies it
 * on every path alike and the differences are the proxies' own.
 *
 *   --store postgres           inventory on a fresh database of the local PostgreSQL server
 *                              (BENCH_POSTGRES_URL); default PGlite in a temp dir
 *   BENCH_GATEWAY_DURATION     seconds measured per target and round (default 5; --quick 2)
 *   BENCH_GATEWAY_CONNECTIONS  concurrent connections (default 20)
 *   BENCH_GATEWAY_ROUNDS       rounds, every target once per round (default 2; --quick 1)
 *   BENCH_GATEWAY_NGINX        nginx binary (default /usr/sbin/nginx)
 *   BENCH_GATEWAY_CPU_PROF     a directory: the gateways run with --cpu-prof and write their profiles there
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { dropPostgresDatabase, ensurePostgresDatabase, withDatabaseName } from "@blossom/store";
import { type BlossomProcess, freePort, spawnBlossom, spawnNode, waitForReady } from "@blossom/testkit";
import autocannon from "autocannon";
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

const NGINX = process.env.BENCH_GATEWAY_NGINX ?? "/usr/sbin/nginx";
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;
export const WARMUP_SECONDS = 1;
/** Far above what one user can send in a minute here: the limiter counts every request, refuses none. */
const RATE_LIMIT_PER_MINUTE = 1_000_000_000;
/** The gateway's objective: at least this share of nginx's requests/s. */
const TARGET_SHARE_OF_NGINX = 0.45;

const FLOOR_SERVER = `
import Fastify from "fastify";
const body = process.env.BENCH_BODY;
const app = Fastify({ logger: false });
app.get("/api/inventory/products/:id", async (_request, reply) => reply.type("application/json").send(body));
const address = await app.listen({ host: "127.0.0.1", port: Number(process.env.BENCH_PORT) });
process.stdout.write("listening " + address + "\\n");
process.on("SIGTERM", () => app.close().then(() => process.exit(0)));
`;

type TargetId =
  | "direct"
  | "nginx"
  | "gateway"
  | "floor"
  | "nginx-floor"
  | "gateway-floor"
  | "gateway-floor-untraced";

interface Target {
  id: TargetId;
  label: string;
  url: string;
  /** The row of the server this one forwards to (itself for a server). */
  upstream: TargetId;
  /** The process doing this row's own work (the proxy, or the server), whose CPU time is counted. */
  pid: number | undefined;
}

export interface Sample {
  requestsPerSecond: number;
  /**
   * CPU time (user + system) of the row's process tree per completed request: unlike
   * requests/s it depends little on how busy the rest of the machine is (cache and
   * frequency effects remain).
   */
  cpuUsPerRequest: number | undefined;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

interface Series {
  target: Target;
  samples: Sample[];
  failures: string[];
}

export interface Settings {
  durationSeconds: number;
  connections: number;
  rounds: number;
}

export function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

function settings(options: BenchOptions): Settings {
  return {
    durationSeconds: positiveInteger("BENCH_GATEWAY_DURATION", options.quick ? 2 : 5),
    connections: positiveInteger("BENCH_GATEWAY_CONNECTIONS", 20),
    rounds: positiveInteger("BENCH_GATEWAY_ROUNDS", options.quick ? 1 : 2),
  };
}

/** The environment of one `blossom start <service>` process: embedded adapters, quiet logs. */
function blossomEnv(dataDir: string, extra: Record<string, string>): Record<string, string> {
  // Stray platform variables of this shell must not leak in (a NATS_URL would join a real bus).
  const inherited = [
    "NODE_ENV",
    "PORT",
    "NATS_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "BLOSSOM_SEED",
    "BLOSSOM_CRASH_POINTS",
    "NODE_OPTIONS",
  ];
  const cleared: Record<string, string> = {};
  for (const name of Object.keys(process.env)) {
    if (
      inherited.includes(name) ||
      /^(GATEWAY|USERS|INVENTORY|ORDERS|PAYMENTS|NOTIFICATIONS|OTEL)_/.test(name)
    )
      cleared[name] = "";
  }
  return {
    ...cleared,
    BLOSSOM_DATA_DIR: dataDir,
    // Gateways of consecutive scenarios may overlap while one stops: no fixed metrics port.
    GATEWAY_METRICS_PORT: "0",
    // Access logs off, as nginx's: the figures are about forwarding, not log shipping.
    LOG_LEVEL: "warn",
    LOG_FORMAT: "json",
    ...extra,
  };
}

export async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * `blossom start <name>` from the sources, as `npm start` runs it (`name` undefined: the whole
 * platform in one process); `nodeArgs` go before the entry (`--cpu-prof` is refused in NODE_OPTIONS).
 */
export async function startBlossom(
  name: string | undefined,
  dataDir: string,
  extra: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<BlossomProcess> {
  const proc = spawnBlossom(
    ["start", ...(name ? [name] : [])],
    blossomEnv(join(dataDir, name ?? "platform"), extra),
    nodeArgs,
  );
  await waitForReady(proc, READY_TIMEOUT_MS);
  return proc;
}

async function json<T>(response: Promise<Response>, what: string): Promise<T> {
  const answer = await response;
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${what}: ${answer.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/**
 * A new customer's access token (sign-up, then login), straight from the users service: its
 * scrypt can outlast the gateway's upstream timeout on a busy machine.
 */
async function accessToken(users: string): Promise<string> {
  const credentials = { email: `bench-${Date.now()}@example.com`, password: "bench-password-1" };
  const post = (path: string, body: unknown) =>
    fetch(`${users}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  await json(post("/api/users", { ...credentials, name: "Bench" }), "sign-up");
  const tokens = await json<{ accessToken: string }>(post("/api/auth/login", credentials), "login");
  return tokens.accessToken;
}

/** A server or proxy the benchmark started. */
interface Started {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

async function startFloor(body: string): Promise<Started> {
  const port = await freePort();
  const floor = spawnNode(["--input-type=module", "-e", FLOOR_SERVER], {
    ...process.env,
    BENCH_BODY: body,
    BENCH_PORT: String(port),
  });
  const { child, exited } = floor;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!floor.output().includes("listening")) {
    if (child.exitCode !== null) throw new Error(`floor server exited: ${floor.output()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`floor server never listened: ${floor.output()}`);
    }
    await new Promise((done) => setTimeout(done, 20));
  }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => stopProcess(child, exited) };
}

/**
 * nginx as a plain reverse proxy to `upstream`: one worker (the gateway is one event loop too),
 * keep-alive connections upstream, no access log, every path in a temp dir.
 */
async function startNginx(upstream: string, dir: string): Promise<Started> {
  const port = await freePort();
  const upstreamHost = new URL(upstream).host;
  // As root, nginx would hand its worker to `nobody`; keep it the current user, as for any other process.
  const user = process.getuid?.() === 0 ? "user root root;\n" : "";
  const conf = `${user}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream inventory {
    server ${upstreamHost};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://inventory;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
  const confPath = join(dir, "nginx.conf");
  await writeFile(confPath, conf);
  const child = spawn(NGINX, ["-p", dir, "-e", join(dir, "error.log"), "-c", confPath], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr?.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise((done) => child.once("exit", done));
  const url = `http://127.0.0.1:${port}`;
  // SIGTERM is nginx's fast shutdown, and it takes its worker along (SIGKILL would orphan it).
  const stop = () => stopProcess(child, exited);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = await readFile(join(dir, "error.log"), "utf8").catch(() => "");
      throw new Error(`nginx exited ${child.exitCode}: ${output}${log}`);
    }
    // Any HTTP answer will do: the upstream need not have the probed path.
    const up = await fetch(`${url}/`).then(
      (response) => response.arrayBuffer().then(() => true),
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      const log = await readFile(join(dir, "error.log"), "utf8").catch(() => "");
      throw new Error(`nginx did not answer within 10 s: ${output}${log}`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  return { url, pid: child.pid, stop };
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by `pid` and its descendants (nginx's worker). */
export function cpuSeconds(pid: number): number {
  const ticks = (id: number) => {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, "utf8");
      // Fields 14 and 15 (utime, stime) follow the command name, which is in parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  const children = (id: number) =>
    readFileSync(`/proc/${id}/task/${id}/children`, "utf8").split(" ").filter(Boolean).map(Number);
  let total = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const id = queue.shift() ?? pid;
    total += ticks(id);
    try {
      queue.push(...children(id));
    } catch {
      // Gone already.
    }
  }
  return total / CLOCK_TICKS_PER_SECOND;
}

/** One autocannon run (after a warm-up) of GET `path` against `target`, with its process's CPU time. */
export async function measure(
  target: Pick<Target, "url" | "pid">,
  path: string,
  token: string,
  settings: Pick<Settings, "connections" | "durationSeconds">,
): Promise<Sample> {
  const options = {
    url: `${target.url}${path}`,
    connections: settings.connections,
    headers: { authorization: `Bearer ${token}` },
  };
  await autocannon({ ...options, duration: WARMUP_SECONDS });
  const cpuBefore = target.pid === undefined ? undefined : cpuSeconds(target.pid);
  const result = await autocannon({ ...options, duration: settings.durationSeconds });
  const cpuUsed =
    target.pid === undefined || cpuBefore === undefined ? undefined : cpuSeconds(target.pid) - cpuBefore;
  return {
    requestsPerSecond: result.requests.average,
    cpuUsPerRequest:
      cpuUsed === undefined || result.requests.total === 0
        ? undefined
        : (cpuUsed * 1e6) / result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, stats]) => [code, stats.count]),
    ),
  };
}

const pick = (series: Series | undefined, key: "requestsPerSecond" | "p50Ms" | "p99Ms" | "cpuUsPerRequest") =>
  median((series?.samples ?? []).flatMap((sample) => sample[key] ?? []));

const total = (series: Series, key: "non2xx" | "errors" | "timeouts") =>
  series.samples.reduce((sum, sample) => sum + sample[key], 0);

export async function run(options: BenchOptions): Promise<BenchResult> {
  const config = settings(options);
  const loadBefore = loadLine();
  const machineBefore = machine();
  const nginxInstalled = existsSync(NGINX);
  const dir = await mkdtemp(join(tmpdir(), "blossom-bench-gateway-"));
  const processes: BlossomProcess[] = [];
  const stops: Array<() => Promise<void>> = [];
  const series = new Map<TargetId, Series>();
  const notes: string[] = [];
  let path = "";
  const database = `blossom_bench_gateway_${process.pid}`;
  let databaseCreated = false;
  try {
    process.stderr.write("gateway: starting users, inventory and gateway processes\n");
    const [usersPort, inventoryPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
    const usersUrl = `http://127.0.0.1:${usersPort}`;
    const inventoryUrl = `http://127.0.0.1:${inventoryPort}`;
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    if (options.store === "postgres") {
      await ensurePostgresDatabase(POSTGRES_URL, database);
      databaseCreated = true;
    }
    const [users, inventory] = await Promise.all([
      startBlossom("users", dir, { USERS_PORT: String(usersPort) }),
      startBlossom("inventory", dir, {
        INVENTORY_PORT: String(inventoryPort),
        USERS_URL: usersUrl,
        ...(databaseCreated ? { INVENTORY_DATABASE_URL: withDatabaseName(POSTGRES_URL, database) } : {}),
      }),
    ]);
    processes.push(users, inventory);
    const cpuProfileDir = process.env.BENCH_GATEWAY_CPU_PROF;
    const startGateway = async (
      name: string,
      port: number,
      inventory: string,
      extra: Record<string, string> = {},
    ) => {
      const gateway = await startBlossom(
        "gateway",
        join(dir, name),
        {
          GATEWAY_PORT: String(port),
          USERS_URL: usersUrl,
          INVENTORY_URL: inventory,
          GATEWAY_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT_PER_MINUTE),
          GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE: "1000",
          ...extra,
        },
        cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(cpuProfileDir)}`] : [],
      );
      processes.push(gateway);
      return gateway.child.pid;
    };
    const gatewayPid = await startGateway("gateway", gatewayPort, inventoryUrl);

    const token = await accessToken(usersUrl);
    const page = await json<{ items: Array<{ id: string }> }>(
      fetch(`${inventoryUrl}/api/inventory/products?limit=1`),
      "catalog",
    );
    const productId = page.items[0]?.id;
    if (!productId) throw new Error("the inventory service has no product (demo seed missing?)");
    path = `/api/inventory/products/${productId}`;
    // The floor answers exactly what the service does, so the bytes on the wire are the same.
    const body = await fetch(`${inventoryUrl}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    }).then(async (response) => {
      if (!response.ok) throw new Error(`product read: ${response.status} ${await response.text()}`);
      return response.text();
    });
    const floor = await startFloor(body);
    stops.push(floor.stop);
    const floorGatewayPort = await freePort();
    const floorGatewayPid = await startGateway("gateway-floor", floorGatewayPort, floor.url);
    // The same gateway without OpenTelemetry, to show what tracing costs per request.
    const untracedGatewayPort = await freePort();
    const untracedGatewayPid = await startGateway("gateway-floor-untraced", untracedGatewayPort, floor.url, {
      OTEL_SDK_DISABLED: "true",
    });

    const targets: Target[] = [
      {
        id: "direct",
        label: "direct to inventory",
        url: inventoryUrl,
        upstream: "direct",
        pid: inventory.child.pid,
      },
    ];
    const floorTargets: Target[] = [
      {
        id: "floor",
        label: "bare Fastify, same JSON (floor)",
        url: floor.url,
        upstream: "floor",
        pid: floor.pid,
      },
    ];
    if (nginxInstalled) {
      const nginx = await startNginx(inventoryUrl, await mkdtemp(join(dir, "nginx-")));
      stops.push(nginx.stop);
      const nginxFloor = await startNginx(floor.url, await mkdtemp(join(dir, "nginx-floor-")));
      stops.push(nginxFloor.stop);
      targets.push({
        id: "nginx",
        label: "nginx -> inventory",
        url: nginx.url,
        upstream: "direct",
        pid: nginx.pid,
      });
      floorTargets.push({
        id: "nginx-floor",
        label: "nginx -> floor",
        url: nginxFloor.url,
        upstream: "floor",
        pid: nginxFloor.pid,
      });
    } else {
      notes.push(`nginx not installed: skipped (${NGINX} is missing)`);
    }
    targets.push({
      id: "gateway",
      label: "gateway -> inventory (JWT, rate limit)",
      url: gatewayUrl,
      upstream: "direct",
      pid: gatewayPid,
    });
    floorTargets.push({
      id: "gateway-floor",
      label: "gateway -> floor (JWT, rate limit)",
      url: `http://127.0.0.1:${floorGatewayPort}`,
      upstream: "floor",
      pid: floorGatewayPid,
    });
    floorTargets.push({
      id: "gateway-floor-untraced",
      label: "gateway -> floor, tracing off (OTEL_SDK_DISABLED)",
      url: `http://127.0.0.1:${untracedGatewayPort}`,
      upstream: "floor",
      pid: untracedGatewayPid,
    });
    targets.push(...floorTargets);
    for (const target of targets) series.set(target.id, { target, samples: [], failures: [] });

    // Round-robin, so a change in machine load during the run affects every row alike.
    for (let round = 1; round <= config.rounds; round++) {
      for (const target of targets) {
        process.stderr.write(`gateway: round ${round}/${config.rounds}: ${target.label}\n`);
        const entry = series.get(target.id);
        await measure(target, path, token, config).then(
          (sample) => entry?.samples.push(sample),
          (error: unknown) => entry?.failures.push(errorMessage(error)),
        );
      }
    }
  } finally {
    await Promise.allSettled(stops.map((stop) => stop()));
    await Promise.allSettled(processes.map((proc) => stopProcess(proc.child, proc.exited)));
    await rm(dir, { recursive: true, force: true });
    if (databaseCreated) {
      await dropPostgresDatabase(POSTGRES_URL, database).catch((error: unknown) => {
        notes.push(`could not drop database ${database}: ${errorMessage(error)}`);
      });
    }
  }

  const rps = (id: TargetId) => pick(series.get(id), "requestsPerSecond");
  const cpu = (id: TargetId) => pick(series.get(id), "cpuUsPerRequest");
  const rows: Cell[][] = [...series.values()].map((entry) =>
    entry.samples.length === 0
      ? [entry.target.label, "FAILED (see note)"]
      : [
          entry.target.label,
          pick(entry, "requestsPerSecond"),
          pick(entry, "p50Ms"),
          pick(entry, "p99Ms"),
          pick(entry, "cpuUsPerRequest"),
          total(entry, "non2xx"),
          total(entry, "errors") + total(entry, "timeouts"),
          ratio(pick(entry, "requestsPerSecond"), rps(entry.target.upstream)),
          entry.samples.map((sample) => Math.round(sample.requestsPerSecond)).join(" "),
        ],
  );
  for (const entry of series.values()) {
    for (const failure of entry.failures) notes.push(`FAILED ${entry.target.label}: ${failure}`);
    const refused = total(entry, "non2xx");
    if (refused > 0) {
      const codes = new Map<string, number>();
      for (const sample of entry.samples)
        for (const [code, count] of Object.entries(sample.statusCodes))
          codes.set(code, (codes.get(code) ?? 0) + count);
      notes.push(
        `${entry.target.label}: ${refused} non-2xx answers (${[...codes].map(([c, n]) => `${c}: ${n}`).join(", ")})`,
      );
    }
  }
  const ratios = (upstream: TargetId, nginx: TargetId, gateway: TargetId) =>
    [
      `gateway/${upstream} ${ratio(rps(gateway), rps(upstream)) ?? "-"}`,
      `gateway/nginx ${nginxInstalled ? (ratio(rps(gateway), rps(nginx)) ?? "-") : "- (nginx not installed)"}`,
      `nginx/${upstream} ${nginxInstalled ? (ratio(rps(nginx), rps(upstream)) ?? "-") : "-"}`,
    ].join("; ");
  const verdict = (nginx: TargetId, gateway: TargetId) => {
    const share = ratioNumber(rps(gateway), rps(nginx));
    if (share === undefined) return "";
    const below = share < TARGET_SHARE_OF_NGINX ? ", BELOW the objective" : "";
    return `: gateway keeps ${(share * 100).toFixed(0)}% of nginx's requests/s${below}`;
  };

  const title = `gateway: GET ${path || "/api/inventory/products/:id"}, ${config.connections} connections, ${config.durationSeconds} s per target after ${WARMUP_SECONDS} s warm-up, median of ${config.rounds} round(s); users, inventory (${options.store === "postgres" ? "PostgreSQL" : "PGlite"}) and gateways as separate processes, autocannon here`;
  const text = [
    title,
    `  ${loadBefore} (before)`,
    "",
    table(
      "every request carries the same bearer token; CPU µs/req = user+system CPU of the row's own process (the proxy, or the server) per request, less sensitive to machine load than req/s; x upstream = requests/s against the server behind the proxy",
      [
        "target",
        "req/s",
        "p50 ms",
        "p99 ms",
        "CPU µs/req",
        "non-2xx",
        "errors",
        "x upstream",
        "samples req/s",
      ],
      rows,
    ),
    `  ratios (req/s) to inventory: ${ratios("direct", "nginx", "gateway")}${verdict("nginx", "gateway")}`,
    `  ratios (req/s) to the floor: ${ratios("floor", "nginx-floor", "gateway-floor")}${verdict("nginx-floor", "gateway-floor")}`,
    `  CPU per request (less load-sensitive than req/s): gateway/nginx ${ratio(cpu("gateway-floor"), cpu("nginx-floor")) ?? "-"} in front of the floor, ${ratio(cpu("gateway"), cpu("nginx")) ?? "-"} in front of inventory; gateway/floor server ${ratio(cpu("gateway-floor"), cpu("floor")) ?? "-"}`,
    `  tracing off: untraced gateway/nginx ${ratio(rps("gateway-floor-untraced"), rps("nginx-floor")) ?? "-"}; untraced/traced gateway ${ratio(rps("gateway-floor-untraced"), rps("gateway-floor")) ?? "-"}`,
    `  direct/floor ${ratio(rps("direct"), rps("floor")) ?? "-"}; objective: the gateway keeps >= ${TARGET_SHARE_OF_NGINX * 100}% of nginx's requests/s`,
    ...notes.map((note) => `  note: ${note}`),
    `  ${loadLine()} (after)`,
    "",
  ].join("\n");

  return {
    name: "gateway",
    text,
    failed: [...series.values()].some((entry) => entry.failures.length > 0),
    json: {
      benchmark: "gateway",
      finishedAt: new Date().toISOString(),
      quick: options.quick,
      ...config,
      warmupSeconds: WARMUP_SECONDS,
      path,
      nginx: nginxInstalled ? NGINX : "not installed",
      inventoryStore: options.store,
      machineBefore,
      machineAfter: machine(),
      targets: [...series.values()].map((entry) => ({
        id: entry.target.id,
        label: entry.target.label,
        samples: entry.samples,
        failures: entry.failures,
        median: {
          requestsPerSecond: pick(entry, "requestsPerSecond"),
          p50Ms: pick(entry, "p50Ms"),
          p99Ms: pick(entry, "p99Ms"),
          cpuUsPerRequest: pick(entry, "cpuUsPerRequest"),
        },
      })),
      ratios: {
        gatewayToDirect: ratioNumber(rps("gateway"), rps("direct")),
        gatewayToNginx: ratioNumber(rps("gateway"), rps("nginx")),
        nginxToDirect: ratioNumber(rps("nginx"), rps("direct")),
        directToFloor: ratioNumber(rps("direct"), rps("floor")),
        gatewayToFloor: ratioNumber(rps("gateway-floor"), rps("floor")),
        gatewayToNginxOverFloor: ratioNumber(rps("gateway-floor"), rps("nginx-floor")),
        untracedGatewayToNginxOverFloor: ratioNumber(rps("gateway-floor-untraced"), rps("nginx-floor")),
        nginxToFloor: ratioNumber(rps("nginx-floor"), rps("floor")),
      },
      notes,
    },
  };
}

function ratioNumber(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}
