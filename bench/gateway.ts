/**
 * Requests/s, latency and CPU time per request of single GET requests, every row measured in
 * the same run (round-robin), in two groups.
 *
 * The services' request path: the product read `GET /api/inventory/products/:id`.
 *   - bare Fastify + Kysely (the baseline): a bare Fastify server running the same Kysely query
 *     as the inventory service's route (findProduct in services/inventory/src/store/products-store.ts,
 *     copied below) on the same data, with no auth, validation, logging, tracing or metrics. On
 *     PostgreSQL it reads inventory's own database; on PGlite, whose directory one process at a
 *     time may open, a copy of inventory's cluster taken while inventory was stopped after it
 *     seeded the demo catalog. Its answer must equal inventory's, or the row fails.
 *     Objective: inventory direct keeps >= 0.5x its requests/s.
 *   - direct to inventory, anonymous (the route is public) and with a bearer token (verified by
 *     the service); nginx -> inventory and gateway -> inventory, with the token.
 * The edge: a bare Fastify server answering the same JSON without a database (the floor), alone
 * and behind nginx and the gateway, where the proxies' own costs show (inventory's read costs far
 * more than either proxy):
 *   - anonymous public GET: the product read with no Authorization header (the gateway counts it
 *     against the caller's IP);
 *   - authenticated route: `GET /api/orders/:id`, which the gateway refuses without a token, with
 *     the token (JWT verified at the edge, rate limit per user, tracing on: every stage on; the
 *     headline objective: the gateway keeps >= 0.5x nginx's requests/s with a p99 <= 3x nginx's);
 *     the same gateway with its rate limit in Redis (REDIS_URL; the row is skipped, with a note,
 *     when Redis does not answer) and with tracing off (OTEL_SDK_DISABLED=true).
 * Each row reports the CPU time its own process (the proxy, or the server) spent per request, a
 * figure that a busy machine distorts much less than requests/s, and each gateway row its
 * requests/s, p99 and CPU time against nginx in front of the same upstream, sent the same requests.
 *
 * Users, inventory and the gateways run as separate `blossom start <name>` processes, so the
 * load generator (autocannon, in this process), the gateway and the service never share an
 * event loop.
 *
 *   --store postgres           inventory (and the bare server) on a fresh database of the local
 *                              PostgreSQL server (BENCH_config.postgresUrl); default PGlite in a temp dir
 *   BENCH_GATEWAY_DURATION     seconds measured per target and round (default 5; --quick 2)
 *   BENCH_GATEWAY_CONNECTIONS  concurrent connections (default 20)
 *   BENCH_GATEWAY_ROUNDS       rounds, every target once per round (default 2; --quick 1)
 *   BENCH_GATEWAY_NGINX        nginx binary (default /usr/sbin/nginx)
 *   BENCH_GATEWAY_CPU_PROF     a directory: the gateways run with --cpu-prof and write their profiles there
 *   BENCH_REDIS_URL            Redis of the Redis rate-limit row (default redis://127.0.0.1:6379)
 */

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { dropPostgresDatabase, ensurePostgresDatabase, maskPassword, withDatabaseName } from "@blossom/store";
import { type BlossomProcess, freePort, spawnNode } from "@blossom/testkit";
import { measure, type Sample, WARMUP_SECONDS } from "./measure.js";
import { cpuProfileArgs, startBlossom, stopProcess } from "./processes.js";
import {
  type BenchOptions,
  type BenchResult,
  type Cell,
  errorMessage,
  fmt,
  loadLine,
  machine,
  median,
  type RatioObjective,
  ratio,
  ratioAgainst,
  table,
} from "./report.js";
import { benchServers, benchVariable, positiveInteger } from "./settings.js";

const READY_TIMEOUT_MS = 120_000;
/** Far above what one user can send in a minute here: the limiter counts every request, refuses none. */
const RATE_LIMIT_PER_MINUTE = 1_000_000_000;
/** The gateway's objective, every stage on: at least this share of nginx's requests/s... */
const GATEWAY_REQUESTS_OBJECTIVE: RatioObjective = { atLeast: 0.5 };
/** ...with a p99 latency of at most this many times nginx's. */
const GATEWAY_P99_OBJECTIVE: RatioObjective = { atMost: 3 };
/** The services' request path: inventory direct keeps at least this share of bare Fastify + Kysely's requests/s. */
const SERVICE_REQUESTS_OBJECTIVE: RatioObjective = { atLeast: 0.5 };

/** Answers the product read, and a route that needs a token at the gateway, with the same JSON. */
const FLOOR_SERVER = `
import Fastify from "fastify";
const body = process.env.BENCH_BODY;
const app = Fastify({ logger: false });
const answer = async (_request, reply) => reply.type("application/json").send(body);
app.get("/api/inventory/products/:id", answer);
app.get("/api/orders/:id", answer);
const address = await app.listen({ host: "127.0.0.1", port: Number(process.env.BENCH_PORT) });
process.stdout.write("listening " + address + "\\n");
process.on("SIGTERM", () => app.close().then(() => process.exit(0)));
`;

/**
 * The services' request path without the services' framework: Fastify, the store the service
 * opens (`openStore`, same schema and role on PGlite, same pool size on PostgreSQL) and the
 * query of inventory's `GET /api/inventory/products/:id`, answering the product view the route
 * answers. Written to a file that imports by absolute URL (module URLs filled in by the bench):
 * PGlite does not load in a `node -e` script.
 */
function bareKyselyServer(modules: { fastify: string; kysely: string; store: string }): string {
  return `
import Fastify from ${JSON.stringify(modules.fastify)};
import { sql } from ${JSON.stringify(modules.kysely)};
import { openStore } from ${JSON.stringify(modules.store)};
const store = await openStore({
  service: "inventory",
  dataDir: process.env.BENCH_DATA_DIR,
  databaseUrl: process.env.BENCH_DATABASE_URL || undefined,
});
const db = store.db;
// findProduct of services/inventory/src/store/products-store.ts, verbatim: keep the two in step
// (the bench compares this server's answer with the service's before measuring).
const available = sql\`(products.stock - products.reserved + coalesce((
    select sum(lines.quantity)
    from reservation_lines as lines
    join reservations on reservations.order_id = lines.order_id
    where lines.product_id = products.id and lines.held and reservations.expires_at <= now()
  ), 0))::integer\`.as("available");
const findProduct = (id) =>
  db.selectFrom("products").selectAll().select(available).where("id", "=", id).executeTakeFirst();
const app = Fastify({ logger: false });
app.get("/api/inventory/products/:id", async (request, reply) => {
  const row = await findProduct(request.params.id);
  if (!row) return reply.code(404).send({ status: 404 });
  // toProductView of services/inventory/src/api/product-view.ts.
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    price: { amount: row.price_amount, currency: "USD" },
    available: row.available,
  };
});
const address = await app.listen({ host: "127.0.0.1", port: Number(process.env.BENCH_PORT) });
process.stdout.write("listening " + address + "\\n");
process.on("SIGTERM", () => app.close().then(() => store.close()).then(() => process.exit(0)));
`;
}

type TargetId =
  | "bare-kysely"
  | "direct-anonymous"
  | "direct"
  | "nginx"
  | "gateway"
  | "floor"
  | "nginx-floor-anonymous"
  | "gateway-floor-anonymous"
  | "nginx-floor"
  | "gateway-floor"
  | "gateway-floor-redis"
  | "gateway-floor-untraced";

interface Target {
  id: TargetId;
  label: string;
  url: string;
  path: string;
  /** Whether its requests carry the bearer token. */
  authorized: boolean;
  /**
   * The row "x baseline" compares it with: the server behind a proxy; bare Fastify + Kysely for
   * inventory direct; itself for a baseline.
   */
  baseline: TargetId;
  /** A gateway's row: nginx in front of the same upstream, sent the same requests. */
  nginx?: TargetId;
  /** The process doing this row's own work (the proxy, or the server), whose CPU time is counted. */
  pid: number | undefined;
}

interface Series {
  target: Target;
  samples: Sample[];
  failures: string[];
  /** Why the row was not measured (e.g. Redis unreachable): a skip, not a failure. */
  skipped?: string;
}

export interface Settings {
  durationSeconds: number;
  connections: number;
  rounds: number;
  /** Each row's own warm-up before the first round: this many requests, or fewer if `maxMs` passes first. */
  rowWarmup: { requests: number; maxMs: number };
  /** The nginx binary (BENCH_GATEWAY_NGINX). */
  nginx: string;
  /** The gateways' --cpu-prof directory (BENCH_GATEWAY_CPU_PROF), if any. */
  cpuProfileDir: string | undefined;
  postgresUrl: string;
  redisUrl: string;
}

/** Every BENCH_* variable of this benchmark, read once. */
function settings(options: BenchOptions): Settings {
  const servers = benchServers();
  return {
    durationSeconds: positiveInteger("BENCH_GATEWAY_DURATION", options.quick ? 2 : 5),
    connections: positiveInteger("BENCH_GATEWAY_CONNECTIONS", 20),
    rounds: positiveInteger("BENCH_GATEWAY_ROUNDS", options.quick ? 1 : 2),
    rowWarmup: options.quick ? { requests: 1_000, maxMs: 2_000 } : { requests: 3_000, maxMs: 5_000 },
    nginx: benchVariable("BENCH_GATEWAY_NGINX") ?? "/usr/sbin/nginx",
    cpuProfileDir: benchVariable("BENCH_GATEWAY_CPU_PROF"),
    postgresUrl: servers.postgres,
    redisUrl: servers.redis,
  };
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

/** A node process that prints "listening" once its server is up. */
async function startListening(name: string, args: string[], env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const server = spawnNode(args, { ...process.env, ...env, BENCH_PORT: String(port) });
  const { child, exited } = server;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!server.output().includes("listening")) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${server.output()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${name} never listened: ${server.output()}`);
    }
    await new Promise((done) => setTimeout(done, 20));
  }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => stopProcess(child, exited) };
}

function startFloor(body: string): Promise<Started> {
  return startListening("floor server", ["--input-type=module", "-e", FLOOR_SERVER], { BENCH_BODY: body });
}

/**
 * The bare Fastify + Kysely server on inventory's database (`databaseUrl`) or on the PGlite
 * cluster under `dataDir` (a copy of inventory's), from a script written into `dir`.
 */
async function startBareKysely(
  dir: string,
  dataDir: string,
  databaseUrl: string | undefined,
): Promise<Started> {
  const script = join(dir, "bare-kysely-server.mjs");
  // Resolved here, as the services resolve them (the sources under --conditions=source): the
  // script lives in a temp dir, where bare specifiers would not resolve.
  const modules = {
    fastify: import.meta.resolve("fastify"),
    kysely: import.meta.resolve("kysely"),
    store: import.meta.resolve("@blossom/store"),
  };
  await writeFile(script, bareKyselyServer(modules));
  return startListening("bare Fastify + Kysely server", ["--conditions=source", "--import", "tsx", script], {
    BENCH_DATA_DIR: dataDir,
    BENCH_DATABASE_URL: databaseUrl ?? "",
  });
}

/**
 * Why Redis at `url` cannot serve the rate limit (no answer to PING within 2 s), or undefined
 * when it answers. A `rediss:` (TLS) URL is not probed: the gateway's own start tells.
 */
async function redisUnreachable(url: string): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `BENCH_REDIS_URL is not a URL: ${url}`;
  }
  if (parsed.protocol !== "redis:") return undefined;
  const host = parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
  const port = Number(parsed.port || 6379);
  const commands: string[][] = [];
  if (parsed.password)
    commands.push([
      "AUTH",
      ...(parsed.username ? [decodeURIComponent(parsed.username)] : []),
      decodeURIComponent(parsed.password),
    ]);
  commands.push(["PING"]);
  // RESP arrays of bulk strings: a password may hold any character.
  const request = commands
    .map(
      (words) => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join("")}`,
    )
    .join("");
  return new Promise((done) => {
    const socket = connect({ host, port });
    let reply = "";
    const finish = (reason: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      done(reason);
    };
    const timer = setTimeout(() => finish(`no answer from ${host}:${port} within 2 s`), 2_000);
    socket.once("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      reply += String(chunk);
      const refusal = reply.split("\r\n").find((line) => line.startsWith("-"));
      if (refusal) finish(`Redis at ${host}:${port} answered ${refusal.slice(1)}`);
      else if (reply.includes("+PONG\r\n")) finish(undefined);
    });
    socket.once("error", (error) => finish(`cannot connect to ${host}:${port}: ${error.message}`));
  });
}

/**
 * nginx as a plain reverse proxy to `upstream`: one worker (the gateway is one event loop too),
 * keep-alive connections upstream, no access log, every path in a temp dir.
 */
async function startNginx(nginx: string, upstream: string, dir: string): Promise<Started> {
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
  const child = spawn(nginx, ["-p", dir, "-e", join(dir, "error.log"), "-c", confPath], {
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

const pick = (series: Series | undefined, key: "requestsPerSecond" | "p50Ms" | "p99Ms" | "cpuUsPerRequest") =>
  median((series?.samples ?? []).flatMap((sample) => sample[key] ?? []));

const total = (series: Series, key: "non2xx" | "errors" | "timeouts") =>
  series.samples.reduce((sum, sample) => sum + sample[key], 0);

const WARMUP_CONCURRENCY = 10;

/**
 * `requests` GETs of the row's request, fewer if `maxMs` passes first (a busy machine); answers
 * are not checked.
 */
async function warmUp(
  target: Target,
  token: string | undefined,
  { requests, maxMs }: Settings["rowWarmup"],
): Promise<void> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const deadline = Date.now() + maxMs;
  let sent = 0;
  const worker = async () => {
    while (sent < requests && Date.now() < deadline) {
      sent += 1;
      await fetch(`${target.url}${target.path}`, { headers }).then(
        (response) => response.arrayBuffer(),
        () => undefined,
      );
    }
  };
  await Promise.all(Array.from({ length: WARMUP_CONCURRENCY }, worker));
}

/** Waits for every start, then fails with the first failure: no process is left starting unseen. */
async function settled<T extends readonly unknown[]>(
  starts: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(starts);
  const failure = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failure) throw failure.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

const progress = (message: string) => process.stderr.write(`gateway: ${message}\n`);

export async function run(options: BenchOptions): Promise<BenchResult> {
  const config = settings(options);
  const loadBefore = loadLine();
  const machineBefore = machine();
  const nginxInstalled = existsSync(config.nginx);
  const dir = await mkdtemp(join(tmpdir(), "blossom-bench-gateway-"));
  const processes: BlossomProcess[] = [];
  const stops: Array<() => Promise<void>> = [];
  const series = new Map<TargetId, Series>();
  const notes: string[] = [];
  /** Failures found before measuring (a wrong answer, a stage that is off), by row. */
  const checks = new Map<TargetId, string[]>();
  const check = (id: TargetId, failure: string) => checks.set(id, [...(checks.get(id) ?? []), failure]);
  let productPath = "";
  let orderPath = "";
  let redisSkipped: string | undefined;
  const database = `blossom_bench_gateway_${process.pid}`;
  let databaseCreated = false;
  try {
    progress("starting users and inventory processes");
    const [usersPort, inventoryPort] = [await freePort(), await freePort()];
    const usersUrl = `http://127.0.0.1:${usersPort}`;
    const inventoryUrl = `http://127.0.0.1:${inventoryPort}`;
    if (options.store === "postgres") {
      await ensurePostgresDatabase(config.postgresUrl, database);
      databaseCreated = true;
    }
    const inventoryDatabaseUrl = databaseCreated ? withDatabaseName(config.postgresUrl, database) : undefined;
    const startInventory = async () => {
      const inventory = await startBlossom("inventory", dir, {
        INVENTORY_PORT: String(inventoryPort),
        USERS_URL: usersUrl,
        ...(inventoryDatabaseUrl ? { INVENTORY_DATABASE_URL: inventoryDatabaseUrl } : {}),
      });
      processes.push(inventory);
      return inventory;
    };
    const [users, seeded] = await settled<[BlossomProcess, BlossomProcess]>([
      startBlossom("users", dir, { USERS_PORT: String(usersPort) }),
      startInventory(),
    ]);
    processes.push(users);

    const token = await accessToken(usersUrl);
    const page = await json<{ items: Array<{ id: string }> }>(
      fetch(`${inventoryUrl}/api/inventory/products?limit=1`),
      "catalog",
    );
    const productId = page.items[0]?.id;
    if (!productId) throw new Error("the inventory service has no product (demo seed missing?)");
    productPath = `/api/inventory/products/${productId}`;
    // A route that needs a token at the gateway; the floor answers it as it answers the product read.
    orderPath = `/api/orders/${randomUUID()}`;
    // The floor answers exactly what the service does, so the bytes on the wire are the same.
    const body = await fetch(`${inventoryUrl}${productPath}`).then(async (response) => {
      if (!response.ok) throw new Error(`product read: ${response.status} ${await response.text()}`);
      return response.text();
    });
    const floor = await startFloor(body);
    stops.push(floor.stop);

    // The bare server's data: inventory's own database on PostgreSQL. An embedded PGlite cluster
    // is open by one process only: the bare server gets a copy, taken while inventory is stopped
    // (its seeded catalog complete and flushed), and inventory starts again on the original.
    const bareDataDir = join(dir, "bare-kysely");
    if (!inventoryDatabaseUrl) {
      progress("stopping inventory to copy its PGlite cluster for the bare Fastify + Kysely server");
      await stopProcess(seeded.child, seeded.exited);
      await cp(join(dir, "inventory", "pglite"), join(bareDataDir, "pglite"), { recursive: true });
    }

    redisSkipped = await redisUnreachable(config.redisUrl);
    if (redisSkipped) {
      redisSkipped = `Redis unreachable (BENCH_REDIS_URL ${maskPassword(config.redisUrl)}): ${redisSkipped}`;
      progress(`skipping the Redis rate-limit row: ${redisSkipped}`);
    }

    const { cpuProfileDir } = config;
    const startGateway = async (name: string, upstreams: Record<string, string>) => {
      const port = await freePort();
      const gateway = await startBlossom(
        "gateway",
        join(dir, name),
        {
          GATEWAY_PORT: String(port),
          USERS_URL: usersUrl,
          GATEWAY_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT_PER_MINUTE),
          GATEWAY_LOGIN_RATE_LIMIT_PER_MINUTE: "1000",
          ...upstreams,
        },
        cpuProfileArgs(cpuProfileDir),
      );
      processes.push(gateway);
      return { url: `http://127.0.0.1:${port}`, pid: gateway.child.pid };
    };
    const startBare = async () => {
      const bare = await startBareKysely(dir, bareDataDir, inventoryDatabaseUrl);
      stops.push(bare.stop);
      return bare;
    };
    const toFloor = { INVENTORY_URL: floor.url, ORDERS_URL: floor.url };
    progress(
      `starting ${inventoryDatabaseUrl ? "" : "inventory again, "}the bare Fastify + Kysely server and the gateways`,
    );
    type Gateway = Awaited<ReturnType<typeof startGateway>>;
    const [inventory, bare, gateway, floorGateway, untracedGateway, redisGateway] = await settled<
      [BlossomProcess, Started, Gateway, Gateway, Gateway, Gateway | string | undefined]
    >([
      inventoryDatabaseUrl ? Promise.resolve(seeded) : startInventory(),
      startBare(),
      startGateway("gateway", { INVENTORY_URL: inventoryUrl }),
      startGateway("gateway-floor", toFloor),
      // The same gateway without OpenTelemetry, to show what tracing costs per request.
      startGateway("gateway-floor-untraced", { ...toFloor, OTEL_SDK_DISABLED: "true" }),
      // Its start failing (Redis answered PING, then refused the gateway) fails that row only.
      redisSkipped
        ? Promise.resolve(undefined)
        : startGateway("gateway-floor-redis", { ...toFloor, REDIS_URL: config.redisUrl }).catch(
            (error: unknown) => `could not start: ${errorMessage(error)}`,
          ),
    ]);

    // Same query, same data, same answer: otherwise the copy of findProduct above is stale.
    const bareBody = await fetch(`${bare.url}${productPath}`).then((response) => response.text());
    const answersAlike = (() => {
      try {
        return isDeepStrictEqual(JSON.parse(bareBody), JSON.parse(body));
      } catch {
        return false;
      }
    })();
    if (!answersAlike)
      check(
        "bare-kysely",
        `answers ${bareBody.slice(0, 200)} where inventory answers ${body.slice(0, 200)}: bring its copy of findProduct / toProductView in bench/gateway.ts in step with services/inventory`,
      );
    // The authenticated rows mean something only if the gateway does refuse the route without a token.
    const anonymousOrder = await fetch(`${floorGateway.url}${orderPath}`).then(async (response) => {
      await response.arrayBuffer();
      return response.status;
    });
    if (anonymousOrder !== 401)
      check(
        "gateway-floor",
        `GET /api/orders/:id without a token answered ${anonymousOrder}, not 401: the route is not an authenticated one`,
      );

    let nginx: Started | undefined;
    let nginxFloor: Started | undefined;
    if (nginxInstalled) {
      nginx = await startNginx(config.nginx, inventoryUrl, await mkdtemp(join(dir, "nginx-")));
      stops.push(nginx.stop);
      nginxFloor = await startNginx(config.nginx, floor.url, await mkdtemp(join(dir, "nginx-floor-")));
      stops.push(nginxFloor.stop);
    } else {
      notes.push(
        `nginx not installed: its rows skipped (${config.nginx} is missing; set BENCH_GATEWAY_NGINX)`,
      );
    }

    const product = { path: productPath, authorized: false };
    const productWithToken = { path: productPath, authorized: true };
    const order = { path: orderPath, authorized: true };
    const targets: Array<Target | undefined> = [
      {
        id: "bare-kysely",
        label: "bare Fastify + Kysely, same query (baseline)",
        url: bare.url,
        ...product,
        baseline: "bare-kysely",
        pid: bare.pid,
      },
      {
        id: "direct-anonymous",
        label: "inventory direct, anonymous",
        url: inventoryUrl,
        ...product,
        baseline: "bare-kysely",
        pid: inventory.child.pid,
      },
      {
        id: "direct",
        label: "inventory direct, token",
        url: inventoryUrl,
        ...productWithToken,
        baseline: "bare-kysely",
        pid: inventory.child.pid,
      },
      nginx && {
        id: "nginx",
        label: "nginx -> inventory, token",
        url: nginx.url,
        ...productWithToken,
        baseline: "direct",
        pid: nginx.pid,
      },
      {
        id: "gateway",
        label: "gateway -> inventory, token",
        url: gateway.url,
        ...productWithToken,
        baseline: "direct",
        nginx: "nginx",
        pid: gateway.pid,
      },
      {
        id: "floor",
        label: "floor: bare Fastify, same JSON, no database",
        url: floor.url,
        ...product,
        baseline: "floor",
        pid: floor.pid,
      },
      nginxFloor && {
        id: "nginx-floor-anonymous",
        label: "nginx -> floor, anonymous public GET",
        url: nginxFloor.url,
        ...product,
        baseline: "floor",
        pid: nginxFloor.pid,
      },
      {
        id: "gateway-floor-anonymous",
        label: "gateway -> floor, anonymous public GET",
        url: floorGateway.url,
        ...product,
        baseline: "floor",
        nginx: "nginx-floor-anonymous",
        pid: floorGateway.pid,
      },
      nginxFloor && {
        id: "nginx-floor",
        label: "nginx -> floor, authenticated route",
        url: nginxFloor.url,
        ...order,
        baseline: "floor",
        pid: nginxFloor.pid,
      },
      {
        id: "gateway-floor",
        label: "gateway -> floor, authenticated, every stage on",
        url: floorGateway.url,
        ...order,
        baseline: "floor",
        nginx: "nginx-floor",
        pid: floorGateway.pid,
      },
      {
        id: "gateway-floor-redis",
        label: "  same, rate limit in Redis",
        url: typeof redisGateway === "object" ? redisGateway.url : "",
        ...order,
        baseline: "floor",
        nginx: "nginx-floor",
        pid: typeof redisGateway === "object" ? redisGateway.pid : undefined,
      },
      {
        id: "gateway-floor-untraced",
        label: "  same, tracing off (OTEL_SDK_DISABLED)",
        url: untracedGateway.url,
        ...order,
        baseline: "floor",
        nginx: "nginx-floor",
        pid: untracedGateway.pid,
      },
    ];
    for (const target of targets) {
      if (!target) continue;
      series.set(target.id, {
        target,
        samples: [],
        failures: [...(checks.get(target.id) ?? [])],
        ...(target.id === "gateway-floor-redis" && redisSkipped ? { skipped: redisSkipped } : {}),
      });
    }
    const redisEntry = series.get("gateway-floor-redis");
    if (typeof redisGateway === "string") redisEntry?.failures.push(redisGateway);
    if (redisSkipped) notes.push(`SKIPPED ${redisEntry?.target.label.trim()}: ${redisSkipped}`);

    const measured = [...series.values()].filter((entry) => !entry.skipped && entry.target.url !== "");
    // A process serving several rows (a gateway: anonymous and authenticated) would otherwise
    // warm up on whichever comes first, and measure()'s warm-up is one second, few requests on
    // a busy machine: first, a warm-up of every row by request count.
    for (const { target } of measured) {
      progress(`warming up: ${target.label.trim()}`);
      await warmUp(target, target.authorized ? token : undefined, config.rowWarmup);
    }
    // Round-robin, so a change in machine load during the run affects every row alike.
    for (let round = 1; round <= config.rounds; round++) {
      for (const { target, samples, failures } of measured) {
        progress(`round ${round}/${config.rounds}: ${target.label.trim()}`);
        await measure(target, target.path, target.authorized ? token : undefined, config).then(
          (sample) => samples.push(sample),
          (error: unknown) => failures.push(errorMessage(error)),
        );
      }
    }
  } finally {
    await Promise.allSettled(stops.map((stop) => stop()));
    await Promise.allSettled(processes.map((proc) => stopProcess(proc.child, proc.exited)));
    await rm(dir, { recursive: true, force: true });
    if (databaseCreated) {
      await dropPostgresDatabase(config.postgresUrl, database).catch((error: unknown) => {
        notes.push(`could not drop database ${database}: ${errorMessage(error)}`);
      });
    }
  }

  const rps = (id: TargetId | undefined) => (id ? pick(series.get(id), "requestsPerSecond") : undefined);
  const p99 = (id: TargetId | undefined) => (id ? pick(series.get(id), "p99Ms") : undefined);
  const cpu = (id: TargetId | undefined) => (id ? pick(series.get(id), "cpuUsPerRequest") : undefined);
  const rows: Cell[][] = [...series.values()].map((entry) => {
    const { id, label, baseline, nginx } = entry.target;
    // In the last column, which is text: a numeric column would widen to fit the word.
    const none = Array.from({ length: 9 }, () => undefined);
    if (entry.skipped) return [label, ...none, "SKIPPED (see note)"];
    if (entry.samples.length === 0) return [label, ...none, "FAILED (see note)"];
    return [
      label,
      rps(id),
      pick(entry, "p50Ms"),
      p99(id),
      cpu(id),
      total(entry, "non2xx"),
      total(entry, "errors") + total(entry, "timeouts"),
      baseline === id ? undefined : ratio(rps(id), rps(baseline)),
      ratio(rps(id), rps(nginx)),
      ratio(p99(id), p99(nginx)),
      entry.samples.map((sample) => Math.round(sample.requestsPerSecond)).join(" "),
    ];
  });
  for (const entry of series.values()) {
    for (const failure of entry.failures) notes.push(`FAILED ${entry.target.label.trim()}: ${failure}`);
    const refused = total(entry, "non2xx");
    if (refused > 0) {
      const codes = new Map<string, number>();
      for (const sample of entry.samples)
        for (const [code, count] of Object.entries(sample.statusCodes))
          codes.set(code, (codes.get(code) ?? 0) + count);
      notes.push(
        `${entry.target.label.trim()}: ${refused} non-2xx answers (${[...codes].map(([c, n]) => `${c}: ${n}`).join(", ")})`,
      );
    }
  }
  const noNginx = nginxInstalled ? "-" : "- (nginx not installed)";
  /** A gateway row against nginx: requests/s and p99 against the objectives, CPU per request. */
  const againstNginx = (gateway: TargetId) => {
    const entry = series.get(gateway);
    if (entry?.skipped) return `skipped: ${entry.skipped}`;
    const nginx = entry?.target.nginx;
    return [
      `req/s ${ratioAgainst(rps(gateway), rps(nginx), GATEWAY_REQUESTS_OBJECTIVE) ?? noNginx}`,
      `p99 ${ratioAgainst(p99(gateway), p99(nginx), GATEWAY_P99_OBJECTIVE) ?? noNginx}`,
      `CPU/req ${ratio(cpu(gateway), cpu(nginx)) ?? noNginx}`,
    ].join("; ");
  };
  const serviceObjective = (id: TargetId) =>
    ratioAgainst(rps(id), rps("bare-kysely"), SERVICE_REQUESTS_OBJECTIVE) ?? "-";

  const store = options.store === "postgres" ? "PostgreSQL" : "PGlite";
  const title = `gateway: GET /api/inventory/products/:id (and GET /api/orders/:id, a route that needs a token, against the floor), ${config.connections} connections, ${config.durationSeconds} s per target after a warm-up (${fmt(config.rowWarmup.requests)} requests or ${config.rowWarmup.maxMs / 1000} s once, then ${WARMUP_SECONDS} s every round), median of ${config.rounds} round(s); users, inventory (${store}) and gateways as separate processes, autocannon here`;
  const text = [
    title,
    `  ${loadBefore} (before)`,
    "",
    table(
      [
        `rows: "token" and "authenticated" requests carry a user's bearer token, "anonymous" ones no Authorization header; the bare Fastify + Kysely server runs inventory's query on ${options.store === "postgres" ? "inventory's database" : "a copy of inventory's PGlite cluster"}; "authenticated, every stage on": JWT verified at the edge, rate limit (in memory), tracing, on a route that needs the token`,
        "  CPU µs/req = user+system CPU of the row's own process (the proxy, or the server) per request, less sensitive to machine load than req/s",
        "  x baseline = req/s against the server behind a proxy (bare Fastify + Kysely for inventory direct); x nginx, p99 x nginx = a gateway against nginx in front of the same server, sent the same requests",
      ].join("\n"),
      [
        "target",
        "req/s",
        "p50 ms",
        "p99 ms",
        "CPU µs/req",
        "non-2xx",
        "errors",
        "x baseline",
        "x nginx",
        "p99 x nginx",
        "samples req/s",
      ],
      rows,
    ),
    `  services' request path, inventory direct / bare Fastify + Kysely (req/s): anonymous ${serviceObjective("direct-anonymous")}; token ${serviceObjective("direct")}`,
    `  edge, gateway/nginx in front of the floor, authenticated, every stage on (the objective): ${againstNginx("gateway-floor")}`,
    `  edge, gateway/nginx in front of the floor, anonymous public GET: ${againstNginx("gateway-floor-anonymous")}`,
    `  edge, gateway/nginx in front of the floor, rate limit in Redis: ${againstNginx("gateway-floor-redis")}; Redis/in-memory gateway req/s ${ratio(rps("gateway-floor-redis"), rps("gateway-floor")) ?? "-"}`,
    `  edge, tracing off: untraced gateway/nginx req/s ${ratio(rps("gateway-floor-untraced"), rps("nginx-floor")) ?? noNginx}; untraced/traced gateway req/s ${ratio(rps("gateway-floor-untraced"), rps("gateway-floor")) ?? "-"}, CPU/req ${ratio(cpu("gateway-floor-untraced"), cpu("gateway-floor")) ?? "-"}`,
    `  in front of inventory (token): gateway/inventory ${ratio(rps("gateway"), rps("direct")) ?? "-"}; gateway/nginx req/s ${ratio(rps("gateway"), rps("nginx")) ?? noNginx}, CPU/req ${ratio(cpu("gateway"), cpu("nginx")) ?? noNginx}; nginx/inventory ${ratio(rps("nginx"), rps("direct")) ?? noNginx}`,
    `  floors: inventory direct (anonymous)/floor ${ratio(rps("direct-anonymous"), rps("floor")) ?? "-"}; bare Fastify + Kysely/floor ${ratio(rps("bare-kysely"), rps("floor")) ?? "-"} (what the query costs); gateway CPU/req over the floor server's ${ratio(cpu("gateway-floor"), cpu("floor")) ?? "-"}`,
    ...notes.map((note) => `  note: ${note}`),
    `  ${loadLine()} (after)`,
    "",
  ].join("\n");

  const ratioOf = (a: number | undefined, b: number | undefined) => ratioNumber(a, b);
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
      path: productPath,
      authenticatedPath: orderPath,
      nginx: nginxInstalled ? config.nginx : "not installed",
      redis: redisSkipped ? `skipped: ${redisSkipped}` : maskPassword(config.redisUrl),
      inventoryStore: options.store,
      objectives: {
        gatewayRequestsPerSecondToNginx: GATEWAY_REQUESTS_OBJECTIVE,
        gatewayP99ToNginx: GATEWAY_P99_OBJECTIVE,
        inventoryDirectToBareKysely: SERVICE_REQUESTS_OBJECTIVE,
      },
      machineBefore,
      machineAfter: machine(),
      targets: [...series.values()].map((entry) => {
        const { id, label, path, authorized, baseline, nginx } = entry.target;
        return {
          id,
          label: label.trim(),
          path,
          authorized,
          baseline,
          nginx,
          skipped: entry.skipped,
          samples: entry.samples,
          failures: entry.failures,
          median: {
            requestsPerSecond: rps(id),
            p50Ms: pick(entry, "p50Ms"),
            p99Ms: p99(id),
            cpuUsPerRequest: cpu(id),
          },
          ratios: {
            requestsPerSecondToBaseline: baseline === id ? undefined : ratioOf(rps(id), rps(baseline)),
            requestsPerSecondToNginx: ratioOf(rps(id), rps(nginx)),
            p99ToNginx: ratioOf(p99(id), p99(nginx)),
            cpuUsPerRequestToNginx: ratioOf(cpu(id), cpu(nginx)),
          },
        };
      }),
      ratios: {
        directToBareKysely: ratioOf(rps("direct"), rps("bare-kysely")),
        directAnonymousToBareKysely: ratioOf(rps("direct-anonymous"), rps("bare-kysely")),
        gatewayToDirect: ratioOf(rps("gateway"), rps("direct")),
        gatewayToNginx: ratioOf(rps("gateway"), rps("nginx")),
        nginxToDirect: ratioOf(rps("nginx"), rps("direct")),
        directToFloor: ratioOf(rps("direct"), rps("floor")),
        bareKyselyToFloor: ratioOf(rps("bare-kysely"), rps("floor")),
        gatewayToFloor: ratioOf(rps("gateway-floor"), rps("floor")),
        gatewayToNginxOverFloor: ratioOf(rps("gateway-floor"), rps("nginx-floor")),
        gatewayP99ToNginxOverFloor: ratioOf(p99("gateway-floor"), p99("nginx-floor")),
        anonymousGatewayToNginxOverFloor: ratioOf(
          rps("gateway-floor-anonymous"),
          rps("nginx-floor-anonymous"),
        ),
        anonymousGatewayP99ToNginxOverFloor: ratioOf(
          p99("gateway-floor-anonymous"),
          p99("nginx-floor-anonymous"),
        ),
        redisGatewayToNginxOverFloor: ratioOf(rps("gateway-floor-redis"), rps("nginx-floor")),
        redisGatewayP99ToNginxOverFloor: ratioOf(p99("gateway-floor-redis"), p99("nginx-floor")),
        untracedGatewayToNginxOverFloor: ratioOf(rps("gateway-floor-untraced"), rps("nginx-floor")),
        nginxToFloor: ratioOf(rps("nginx-floor"), rps("floor")),
      },
      notes,
    },
  };
}

function ratioNumber(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}
