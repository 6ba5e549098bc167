import { dropPostgresDatabase } from "@blossom/store";
import {
  type BlossomProcess,
  callHttp,
  freePort,
  isAlive,
  spawnBlossom,
  testAdapters,
  waitForClusterReady,
} from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterEnv } from "../support/cluster-env.js";
import { type Product, ShopClient } from "../support/shop-client.js";
import { SERVICES } from "../support/topologies.js";
import { ClusterPids } from "./support/cluster-pids.js";
import {
  type Check,
  checkInvariants,
  queryService,
  stockByProduct,
  terminateBackends,
} from "./support/invariants.js";
import { runLoad } from "./support/load.js";
import { PrivateNats } from "./support/private-nats.js";
import { type Fault, summaryTable } from "./support/summary.js";

/**
 * Chaos on `blossom cluster` (real PostgreSQL, NATS JetStream, Redis): under a steady load of
 * catalog reads and checkouts, replicas are killed with SIGKILL one service at a time, NATS is
 * killed and restarted, a service's PostgreSQL connections are terminated, and orders answers
 * slowly and sometimes 503 (fault injection). Afterwards the platform's invariants are checked
 * straight in the databases and in JetStream.
 *
 * Faults go to orders' HTTP API (200 ms + 5 % 503s): checkouts are the requests whose failures
 * could strand money or stock. Payments has no HTTP step in checkout (events drive it, so a
 * fault there would only slow card sign-up), and faults on inventory's HTTP would defeat the
 * catalog's 99.9 % by construction rather than measure it.
 */
const adapters = testAdapters();
const postgresUrl = adapters.postgresUrl;
const prefix = `t_chaos_${process.pid}_${Date.now() % 1e8}`;
const REPLICAS = "users=1,inventory=2,orders=2,payments=2,notifications=1,gateway=1";
const LOAD_MS = 75_000;
const SETTLE_MS = 90_000;
const INJECTED = "https://blossom.dev/problems/injected-fault";

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe("chaos: the platform keeps its invariants under crashes, broker restarts and faults", () => {
  let nats: PrivateNats;
  let cluster: BlossomProcess;
  let pids: ClusterPids;
  let gateway = "";

  beforeAll(async () => {
    nats = new PrivateNats(await freePort());
    await nats.start();
    const gatewayPort = await freePort();
    gateway = `http://127.0.0.1:${gatewayPort}`;
    cluster = spawnBlossom(
      ["cluster", "--replicas", REPLICAS],
      clusterEnv(
        { postgresUrl, natsUrl: nats.url, prefix },
        {
          // A fixed port, so that a restarted gateway comes back where the load generator sends.
          GATEWAY_PORT: String(gatewayPort),
          // The cluster's own lines at info (each `<replica> is back` names the restarted pid); the
          // instances' at warn (no access log lines).
          LOG_LEVEL: "info",
          ...Object.fromEntries(
            [...SERVICES, "gateway"].map((service) => [`${service.toUpperCase()}_LOG_LEVEL`, "warn"]),
          ),
          ORDERS_FAULT_LATENCY_MS: "200",
          ORDERS_FAULT_ERROR_RATE: "0.05",
        },
      ),
    );
    pids = new ClusterPids(cluster);
    await waitForClusterReady(cluster, 240_000);
    pids.refresh();
  }, 270_000);

  afterAll(async () => {
    if (cluster && cluster.child.exitCode === null) {
      cluster.child.kill("SIGINT");
      const stopped = await Promise.race([cluster.exited, sleep(30_000).then(() => undefined)]);
      if (!stopped) cluster.child.kill("SIGKILL");
    }
    for (const pid of pids?.all ?? []) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    await nats?.destroy();
    for (const service of SERVICES)
      await dropPostgresDatabase(postgresUrl, `${prefix}_${service}`).catch(() => {});
  }, 60_000);

  it("settles every order, captures each payment once, conserves stock and keeps the catalog up", async () => {
    const catalog = await callHttp<{ items: Product[] }>(gateway, "GET", "/api/inventory/products?limit=20");
    expect(catalog.status).toBe(200);
    const productIds = catalog.body.items.map((item) => item.id);
    const buyers = await Promise.all(
      ["Chaos1", "Chaos2"].map(async (name) => {
        const client = await ShopClient.signUp(gateway, name);
        return { client, card: await client.addCard() };
      }),
    );
    const initialStock = await stockByProduct(postgresUrl, prefix);

    // The fault schedule, run beside the load: each service's replica in turn, then the broker,
    // then a database's connections, then the replicated services again.
    const startedAt = Date.now();
    const faults: Fault[] = [];
    const missed: string[] = [];
    const record = (what: string) => faults.push({ atS: (Date.now() - startedAt) / 1000, what });
    const killReplica = async (service: string) => {
      // Only once every replica is back: a second kill would leave a replicated service with none.
      const deadline = Date.now() + 40_000;
      while (pids.live(service).length < pids.replicas(service) && Date.now() < deadline) {
        await sleep(200);
        pids.refresh();
      }
      const live = pids.live(service);
      if (live.length < pids.replicas(service))
        return void missed.push(`${service}: a replica never came back`);
      const [replica, pid] = live[Math.floor(Math.random() * live.length)] as [string, number];
      process.kill(pid, "SIGKILL");
      record(`kill -9 ${replica} (pid ${pid})`);
    };
    const schedule: Array<[number, () => Promise<void>]> = [
      [5_000, () => killReplica("inventory")],
      [12_000, () => killReplica("orders")],
      [19_000, () => killReplica("payments")],
      [26_000, () => killReplica("notifications")],
      [31_000, () => killReplica("users")],
      [
        38_000,
        async () => {
          record("NATS killed (SIGKILL), restarted 2 s later on its store");
          await nats.kill();
          await sleep(2_000);
          await nats.start();
        },
      ],
      [
        48_000,
        async () => {
          const terminated = await terminateBackends(postgresUrl, `${prefix}_orders`);
          record(`terminated ${terminated} PostgreSQL backends of ${prefix}_orders`);
        },
      ],
      [54_000, () => killReplica("inventory")],
      [61_000, () => killReplica("orders")],
      [68_000, () => killReplica("payments")],
    ];
    const chaos = (async () => {
      for (const [at, fault] of schedule) {
        await sleep(Math.max(0, startedAt + at - Date.now()));
        await fault();
      }
    })();
    const tracker = setInterval(() => pids.refresh(), 100);
    const load = await runLoad({
      gateway,
      productIds,
      buyers,
      catalogReaders: 4,
      durationMs: LOAD_MS,
      inventoryUp: () => pids.live("inventory").length > 0,
    });
    await chaos;
    clearInterval(tracker);

    // Settlement: the saga, the payments and the inventory catch up (deadline: the saga's own
    // 30 s timeout cancels any checkout still stuck, so this is generous).
    let checks: Check[] = [];
    const settleBy = Date.now() + SETTLE_MS;
    do {
      checks = await checkInvariants({
        postgresUrl,
        natsUrl: nats.url,
        prefix,
        initialStock,
        accepted: load.accepted,
      });
      if (checks.every((check) => check.ok)) break;
      await sleep(2_000);
    } while (Date.now() < settleBy);

    // The gateway retries a 503 of a checkout (it carries an Idempotency-Key) on another replica,
    // so shoppers rarely see an injected fault: ask an orders replica directly how often it fails.
    const [ordersReplica] = pids.live("orders")[0] ?? [""];
    const probes = await probeFaults(pids.url(ordersReplica), 200);

    const catalogCounted = load.samples.filter((sample) => sample.kind === "catalog" && sample.inventoryUp);
    const catalogSuccessRate =
      catalogCounted.filter((sample) => sample.status === 200).length / Math.max(1, catalogCounted.length);
    const checkouts = load.samples.filter((sample) => sample.kind === "checkout");
    const statuses = await orderStatuses(load.accepted);
    console.log(
      summaryTable({
        topology: `blossom cluster --replicas ${REPLICAS}; orders: +200 ms, 5 % injected 503`,
        durationS: LOAD_MS / 1000,
        faults,
        samples: load.samples,
        orders: {
          accepted: load.accepted.length,
          confirmed: statuses.confirmed,
          cancelled: statuses.cancelled,
          injected503: checkouts.filter((sample) => sample.problem === INJECTED).length,
        },
        probes,
        catalogSuccessRate,
        checks,
      }),
    );
    console.log(
      "replicas back (t+s):",
      pids.returns.map((back) => `${((back.at - startedAt) / 1000).toFixed(1)} ${back.replica}`).join(", "),
    );
    // Exits the schedule did not cause: an instance that died of a broker or database restart.
    const killed = new Set(faults.map((fault) => Number(/\(pid (\d+)\)/.exec(fault.what)?.[1] ?? 0)));
    const unplanned = pids.exits.filter((exit) => !killed.has(exit.pid));
    console.log(
      `unplanned exits: ${unplanned.length}`,
      unplanned
        .map((exit) => `t+${((exit.at - startedAt) / 1000).toFixed(1)} ${exit.replica} ${exit.exit}`)
        .join(", "),
    );
    // What a dying instance wrote that is not a log line (an uncaught error's stack): the cluster
    // prefixes such lines with the instance's label.
    const unlogged = cluster
      .output()
      .split("\n")
      .filter((line) => /^\w+#\d+\s+\| /.test(line));
    for (const line of unlogged.slice(0, 40)) console.log(`instance wrote: ${line.slice(0, 600)}`);
    const errors = cluster
      .output()
      .split("\n")
      .filter((line) => /"level":(50|60)/.test(line));
    for (const line of errors.slice(0, 20)) console.log(`error logged: ${line.slice(0, 600)}`);
    if (errors.length > 20) console.log(`… and ${errors.length - 20} more error lines`);
    const failedCheckouts = new Map<string, number[]>();
    for (const sample of checkouts.filter((s) => s.status !== 202)) {
      const key = `${sample.status} ${sample.detail ?? sample.problem ?? ""}`;
      failedCheckouts.set(key, [
        ...(failedCheckouts.get(key) ?? []),
        Math.round((sample.startedAt - startedAt) / 1000),
      ]);
    }
    for (const [key, at] of failedCheckouts)
      console.log(`failed checkouts: ${key} ×${at.length} at t+${at[0]}…${at[at.length - 1]} s`);
    const failedCatalog = catalogCounted.filter((sample) => sample.status !== 200);
    if (failedCatalog.length > 0)
      console.log(
        "failed catalog reads (t+s status ms):",
        failedCatalog
          .map((s) => `${((s.startedAt - startedAt) / 1000).toFixed(1)} ${s.status} ${s.ms}`)
          .join(", "),
      );

    expect(missed).toEqual([]);
    expect(faults).toHaveLength(schedule.length);
    expect(checks.filter((check) => !check.ok)).toEqual([]);
    expect(catalogSuccessRate).toBeGreaterThanOrEqual(0.999);
    // The load was real, and the injected faults reached it: orders was slow and sometimes 503.
    expect(load.accepted.length).toBeGreaterThan(20);
    expect(probes.injected).toBeGreaterThan(0);
    expect(probes.injected).toBeLessThan(probes.sent * 0.2);
    const placed = checkouts.filter((sample) => sample.status === 202);
    expect(Math.min(...placed.map((sample) => sample.ms))).toBeGreaterThanOrEqual(200);

    async function orderStatuses(ids: string[]) {
      const rows = await queryService<{ status: string; n: string }>(
        postgresUrl,
        `${prefix}_orders`,
        "SELECT status, count(*) AS n FROM orders WHERE id = ANY($1) GROUP BY status",
        [ids],
      );
      const of = (status: string) => Number(rows.find((row) => row.status === status)?.n ?? 0);
      return { confirmed: of("confirmed"), cancelled: of("cancelled") };
    }
  }, 420_000);
});

/**
 * `sent` requests straight to one orders replica (10 at a time, past the gateway's retries):
 * how many it answered with an injected fault.
 */
async function probeFaults(url: string, sent: number): Promise<{ sent: number; injected: number }> {
  let injected = 0;
  let next = 0;
  const worker = async () => {
    while (next < sent) {
      next += 1;
      const answer = await callHttp<{ type?: string }>(url, "GET", "/openapi.json");
      if (answer.status === 503 && answer.body.type === INJECTED) injected += 1;
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  return { sent, injected };
}
