import {
  type BlossomProcess,
  callHttp,
  deathOf,
  freePort,
  killAll,
  spawnBlossom,
  testEnv,
  waitForReady,
} from "@blossom/testkit";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { type PreparedTopology, prepareTopology, TOPOLOGIES } from "./support/topologies.js";

/**
 * Kills the platform with SIGKILL at the exact places where an event could be lost or handled
 * twice, restarts it on the same data, and checks that every event had exactly one effect.
 * Runs on the embedded default (PGlite + in-memory bus) and, when CI names nats, on JetStream.
 */
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
const prepared: PreparedTopology[] = [];
afterEach(async () => {
  await killAll(running);
  for (const topology of prepared.splice(0)) await topology.destroy();
});

describe.each(TOPOLOGIES)("SIGKILL at a crash point, then restart ($name)", (topology) => {
  it.each(SCENARIOS)(
    "$point ($why): the welcome email is sent exactly once",
    async ({ point }) => {
      const run = await prepareTopology(topology);
      prepared.push(run);
      const { env: databases, count } = run;
      const port = await freePort();
      const env: Record<string, string> = {
        ...databases,
        ...testEnv(port),
        BLOSSOM_SEED: "false",
      };
      const email = `crash-${Date.now()}@example.com`;
      const gateway = `http://127.0.0.1:${port}`;

      const first = spawnBlossom(["start"], { ...env, BLOSSOM_CRASH_POINTS: point });
      running.push(first);
      await waitForReady(first);
      // The reply may or may not make it out before the crash: what counts is the data afterwards.
      await callHttp(gateway, "POST", "/api/users", {
        body: { email, password: "correct horse", name: "Crash" },
      }).catch(() => undefined);
      const death = await deathOf(first);
      expect(death, `the crash point was never reached:\n${first.output()}`).toEqual({
        code: null,
        signal: "SIGKILL",
      });

      const second = spawnBlossom(["start"], env);
      running.push(second);
      await waitForReady(second);
      const taken = await callHttp(gateway, "POST", "/api/users", {
        body: {
          email,
          password: "correct horse",
          name: "Again",
        },
      });
      expect(taken.status, "the user committed before the crash must exist").toBe(409);
      // Give the relay (memory) or JetStream's redelivery (ack wait 1 s) time to act, then stop cleanly.
      await new Promise((done) => setTimeout(done, topology.bus === "nats" ? 3000 : 1500));
      second.child.kill("SIGTERM");
      expect(await second.exited).toEqual({ code: 0, signal: null });

      expect(await count("users", sql`select count(*) from users where email = ${email}`)).toBe(1);
      expect(await count("users", sql`select count(*) from outbox where published_at is null`)).toBe(0);
      expect(
        await count("notifications", sql`select count(*) from notifications where recipient = ${email}`),
      ).toBe(1);
      expect(await count("notifications", sql`select count(*) from inbox`)).toBe(1);
    },
    240_000,
  );
});
