import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPglite } from "@blossom/store";
import { testAdapters } from "@blossom/testkit";
import { type RawBuilder, sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { type BlossomProcess, freePort, spawnBlossom, waitForReady } from "./support/blossom-process.js";
import { call, eventually } from "./support/http.js";

/**
 * Kills the platform with SIGKILL at the exact places where an event could be lost or handled
 * twice, restarts it on the same data, and checks that every event had exactly one effect.
 * Runs on the embedded default (PGlite + in-memory bus) and, when CI names nats, on JetStream.
 */
const adapters = testAdapters();
const buses = adapters.bus;

interface Scenario {
  point: string;
  why: string;
}

const SCENARIOS: Scenario[] = [
  { point: "users/outbox.before-publish", why: "state committed, event not yet published" },
  { point: "users/outbox.after-publish", why: "event published and handled, outbox row not yet marked" },
  { point: "notifications/inbox.after-commit", why: "consumer's effect committed, not yet acknowledged" },
];

const running: BlossomProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const process_ of running.splice(0)) {
    if (process_.child.exitCode === null && process_.child.signalCode === null) {
      process_.child.kill("SIGKILL");
      await process_.exited;
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Counts rows in a service's embedded database after the platform stopped (the process holds it while running). */
async function count(
  dataDir: string,
  service: string,
  query: RawBuilder<{ count: string }>,
): Promise<number> {
  const store = await openPglite<unknown>({ dataDir: join(dataDir, service), service });
  try {
    const result = await query.execute(store.db);
    return Number(result.rows[0]?.count ?? 0);
  } finally {
    await store.close();
  }
}

describe.each(buses)("SIGKILL at a crash point, then restart (%s bus)", (bus) => {
  it.each(SCENARIOS)(
    "$point ($why): the welcome email is sent exactly once",
    async ({ point }) => {
      const dataDir = mkdtempSync(join(tmpdir(), "blossom-crash-"));
      dirs.push(dataDir);
      const port = await freePort();
      const env: Record<string, string> = {
        BLOSSOM_DATA_DIR: dataDir,
        GATEWAY_PORT: String(port),
        USERS_PORT: "0",
        INVENTORY_PORT: "0",
        ORDERS_PORT: "0",
        PAYMENTS_PORT: "0",
        NOTIFICATIONS_PORT: "0",
        BLOSSOM_SEED: "false",
        LOG_LEVEL: "warn",
        ...(bus === "nats"
          ? {
              NATS_URL: adapters.natsUrl,
              BLOSSOM_NATS_PREFIX: `crash_${process.pid}_${Date.now()}`,
              BLOSSOM_NATS_ACK_WAIT_MS: "1000",
            }
          : {}),
      };
      const email = `crash-${Date.now()}@example.com`;

      const first = spawnBlossom(["start"], { ...env, BLOSSOM_CRASH_POINTS: point });
      running.push(first);
      await waitForReady(first);
      // The reply may or may not make it out before the crash: what counts is the data afterwards.
      await call(`http://127.0.0.1:${port}`, "POST", "/api/users", {
        email,
        password: "correct horse",
        name: "Crash",
      }).catch(() => undefined);
      const death = await Promise.race([
        first.exited,
        new Promise<undefined>((done) => setTimeout(() => done(undefined), 15_000)),
      ]);
      expect(death, `the crash point was never reached:\n${first.output()}`).toEqual({
        code: null,
        signal: "SIGKILL",
      });

      const second = spawnBlossom(["start"], env);
      running.push(second);
      await waitForReady(second);
      // After the restart the outbox is relayed again (or JetStream redelivers); wait until the
      // users outbox is drained and the notification exists, then stop cleanly and count.
      const gateway = `http://127.0.0.1:${port}`;
      const taken = await call(gateway, "POST", "/api/users", {
        email,
        password: "correct horse",
        name: "Again",
      });
      expect(taken.status, "the user committed before the crash must exist").toBe(409);
      await eventually(async () => {
        const ready = await call<{ status: string }>(gateway, "GET", "/health/ready");
        return ready.status === 200 ? true : undefined;
      });
      await new Promise((done) => setTimeout(done, bus === "nats" ? 3000 : 1500));
      second.child.kill("SIGTERM");
      expect(await second.exited).toEqual({ code: 0, signal: null });

      expect(await count(dataDir, "users", sql`select count(*) from users where email = ${email}`)).toBe(1);
      expect(await count(dataDir, "users", sql`select count(*) from outbox where published_at is null`)).toBe(
        0,
      );
      expect(
        await count(
          dataDir,
          "notifications",
          sql`select count(*) from notifications where recipient = ${email}`,
        ),
      ).toBe(1);
      expect(await count(dataDir, "notifications", sql`select count(*) from inbox`)).toBe(1);
    },
    120_000,
  );
});
