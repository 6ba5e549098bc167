import {
  type BlossomProcess,
  type ClusterRow,
  spawnBlossom,
  TEST_PASSWORD_HASH_COST,
  testAdapters,
  waitForClusterReady,
} from "@blossom/testkit";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectAccessible,
  expectNoConsoleErrors,
  launchChromium,
  openWatched,
  requireBuiltShop,
  shot,
  signIn,
  type Watched,
} from "./support/browser.js";
import { clusterEnv, stopClusterAndClean } from "./support/cluster-env.js";
import { SERVICES } from "./support/topologies.js";

/**
 * The operations console on `blossom cluster` (issue 17), in Debian's chromium: every service a
 * process of its own and orders twice, on the local PostgreSQL (a database per service), NATS
 * JetStream and Redis, instances found through the NATS instance bucket. The gateway's console
 * reads every instance it finds there. An admin sees all six nodes ready with their instance
 * counts; the test stops notifications' only process (SIGSTOP: hung, then forgotten by
 * discovery once its record expires), the admin sees it go red — down, 0 instances — on the map
 * and the overview; the test kills it, the cluster restarts it, and the admin sees it green again.
 * Needs the servers CI starts before `npm run test:browser` (.ci/run).
 */
const adapters = testAdapters({ ...process.env, BLOSSOM_TEST_ADAPTERS: "postgres,nats" });
const tag = `t_cc_${process.pid}_${Date.now() % 1e8}`;
const ADMIN_EMAIL = "admin@blossom.local";
const ADMIN_PASSWORD = "admin password for the cluster console";
/** Instances each node should show; orders runs two replicas. */
const INSTANCES: Record<string, number> = {
  gateway: 1,
  users: 1,
  inventory: 1,
  orders: 2,
  payments: 1,
  notifications: 1,
};
const STOPPED = "notifications";
/**
 * How long a change may take to show: the console refreshes every 5 s, the gateway's probe of a
 * hung instance takes a few seconds to time out, and a restarted instance starts from sources
 * (tsx) on a loaded 2-core machine.
 */
const RED_WITHIN_MS = 45_000;
const GREEN_WITHIN_MS = 90_000;

/** The pids of the replicas `blossom cluster` said it restarted (`<replica> is back`). */
function restartedPids(output: string, replica: string): number[] {
  return output
    .split("\n")
    .filter((line) => line.includes(`"replica":"${replica}"`) && line.includes(" is back"))
    .map((line) => (JSON.parse(line) as { pid: number }).pid);
}

const plural = (count: number) => `${count} ${count === 1 ? "instance" : "instances"}`;

const UNAVAILABLE_LOAD = "Failed to load resource: the server responded with a status of 503";

/**
 * While a service is down the gateway's `/health/ready` answers 503 (by design: its body says
 * which service), and chromium logs every non-2xx resource load as a console error. Those lines
 * are expected, once it is checked (`unavailableLoads`, from the messages' locations) that every
 * 503 was `/health/ready`'s; any other error still fails the test.
 */
function dropReadinessErrors(watched: Watched, unavailableLoads: string[]): void {
  expect(unavailableLoads.map((url) => new URL(url).pathname)).toEqual(
    unavailableLoads.map(() => "/health/ready"),
  );
  const expected = `console: ${UNAVAILABLE_LOAD}`;
  watched.errors.splice(
    0,
    watched.errors.length,
    ...watched.errors.filter((line) => !line.startsWith(expected)),
  );
}

/** The overview's row of `service`: its health and instance cells. */
function overviewRow(page: Page, service: string) {
  const row = page
    .getByRole("table")
    .first()
    .getByRole("row")
    .filter({ has: page.getByRole("rowheader", { name: service, exact: true }) });
  // Cells after the row header: health, instances, …
  return { health: row.getByRole("cell").nth(0), instances: row.getByRole("cell").nth(1) };
}

describe("the operations console on the cluster (chromium; blossom cluster on PostgreSQL, NATS, Redis)", () => {
  let cluster: BlossomProcess;
  let rows: ClusterRow[] = [];
  let browser: Browser;
  let shop = "";
  const pids = new Set<number>();

  beforeAll(async () => {
    requireBuiltShop();
    cluster = spawnBlossom(
      ["cluster", "--replicas", "1,orders=2"],
      clusterEnv(
        { ...adapters, prefix: tag },
        {
          ...TEST_PASSWORD_HASH_COST,
          BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD,
          // Any free port: another platform on this machine may hold the default one.
          GATEWAY_METRICS_PORT: "0",
          // The cluster's own lines at info (`<replica> is back` names the restarted pid); the
          // instances' at warn.
          LOG_LEVEL: "info",
          ...Object.fromEntries(
            [...SERVICES, "gateway"].map((service) => [`${service.toUpperCase()}_LOG_LEVEL`, "warn"]),
          ),
        },
      ),
    );
    [rows, browser] = await Promise.all([waitForClusterReady(cluster, 150_000), launchChromium()]);
    for (const row of rows) pids.add(row.pid);
    const gateway = rows.find((row) => row.service === "gateway")?.url;
    if (!gateway) throw new Error("the cluster printed no gateway");
    // localhost, not 127.0.0.1: the shop's session cookie is Secure, which chromium allows there.
    shop = gateway.replace("127.0.0.1", "localhost");
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    // A stopped (SIGSTOP) instance ignores the cluster's SIGTERM: stopClusterAndClean kills it.
    await stopClusterAndClean(cluster, pids, { ...adapters, prefix: tag });
  }, 60_000);

  it("an admin sees every instance ready, a stopped service go red (down, 0 instances) and green again once the cluster restarts it", async () => {
    expect(rows.filter((row) => row.service === "orders")).toHaveLength(2);
    const admin = await openWatched(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    const { page } = admin;
    const unavailableLoads: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error" && message.text().startsWith(UNAVAILABLE_LOAD))
        unavailableLoads.push(message.location().url);
    });
    await signIn(page, shop, ADMIN_EMAIL, ADMIN_PASSWORD);
    const nav = page.getByRole("navigation", { name: "Console" });

    // Overview: the six runnables ready, each with its instances (both orders replicas).
    await page.getByRole("link", { name: "Console" }).click();
    await page.getByRole("heading", { level: 1, name: "Operations console" }).waitFor();
    for (const [service, count] of Object.entries(INSTANCES)) {
      const row = overviewRow(page, service);
      await expect.poll(() => row.health.innerText(), { timeout: 20_000 }).toBe("● Ready");
      await expect.poll(() => row.instances.innerText(), { timeout: 20_000 }).toBe(String(count));
    }

    // Map: every node ready with its instance count, the bus too.
    await nav.getByRole("link", { name: "Map" }).click();
    await page.getByRole("heading", { level: 1, name: "Service map" }).waitFor();
    for (const [service, count] of Object.entries(INSTANCES))
      await page
        .getByRole("img", { name: new RegExp(`^${service}: ready, ${plural(count)}(,|$)`) })
        .waitFor({ timeout: 20_000 });
    await page.getByRole("img", { name: "bus: ready" }).waitFor();
    await expectAccessible(page, "console: map of the cluster");

    // Stop notifications' only process (hung: it still holds its port and, until its record
    // expires, its place in discovery): the map says it is down, in words and in red.
    const stopped = rows.find((row) => row.service === STOPPED);
    if (!stopped) throw new Error(`the cluster printed no ${STOPPED} instance`);
    process.kill(stopped.pid, "SIGSTOP");
    const startedAt = Date.now();
    const down = page.getByRole("img", { name: new RegExp(`^${STOPPED}: down, 0 instances,`) });
    await down.waitFor({ timeout: RED_WITHIN_MS });
    const redAfterMs = Date.now() - startedAt;
    expect(await down.getAttribute("class")).toContain("map-down");
    // Only it: the others, both orders replicas included, stay ready.
    for (const [service, count] of Object.entries(INSTANCES))
      if (service !== STOPPED)
        await page
          .getByRole("img", { name: new RegExp(`^${service}: ready, ${plural(count)}(,|$)`) })
          .waitFor();
    const traffic = page.getByRole("table", { name: /^Each service's traffic/ });
    await traffic
      .getByRole("row")
      .filter({ has: page.getByRole("rowheader", { name: STOPPED, exact: true }) })
      .getByText("✖ down")
      .waitFor();
    await expectAccessible(page, "console: map with a service down");
    await shot(page, "console-map-service-down-desktop");
    dropReadinessErrors(admin, unavailableLoads);
    expectNoConsoleErrors(admin, "the console's map with a service down");

    // The overview says it too.
    await nav.getByRole("link", { name: "Overview" }).click();
    await page.getByRole("heading", { level: 1, name: "Operations console" }).waitFor();
    const row = overviewRow(page, STOPPED);
    await expect.poll(() => row.health.innerText(), { timeout: RED_WITHIN_MS }).toBe("✖ Down");
    await expect.poll(() => row.instances.innerText(), { timeout: RED_WITHIN_MS }).toBe("0");
    await expect.poll(() => overviewRow(page, "orders").health.innerText()).toBe("● Ready");

    // Killed, the cluster restarts it (a new process on a new port): green again, one instance —
    // not two, although the old one's series stay in the overview's 15-minute charts.
    process.kill(stopped.pid, "SIGKILL");
    const killedAt = Date.now();
    await expect.poll(() => row.health.innerText(), { timeout: GREEN_WITHIN_MS }).toBe("● Ready");
    await expect.poll(() => row.instances.innerText(), { timeout: 20_000 }).toBe("1");
    const greenAfterMs = Date.now() - killedAt;
    await expect
      .poll(() => restartedPids(cluster.output(), stopped.instance), { timeout: 10_000 })
      .toHaveLength(1);
    const [restarted = 0] = restartedPids(cluster.output(), stopped.instance);
    pids.add(restarted);
    expect(restarted).not.toBe(stopped.pid);
    await nav.getByRole("link", { name: "Map" }).click();
    await page
      .getByRole("img", { name: new RegExp(`^${STOPPED}: ready, 1 instance,`) })
      .waitFor({ timeout: 20_000 });
    await page.getByRole("img", { name: "bus: ready" }).waitFor();
    console.info(
      `console on the cluster: red ${redAfterMs} ms after the stop, green ${greenAfterMs} ms after the kill`,
    );

    dropReadinessErrors(admin, unavailableLoads);
    expectNoConsoleErrors(admin, "the console on the cluster");
    await admin.page.context().close();
  });
});
