import { callHttp } from "@blossom/testkit";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { crashRuns } from "./support/crash-runs.js";
import { TOPOLOGIES } from "./support/topologies.js";

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

const runs = crashRuns();

describe.each(TOPOLOGIES)("SIGKILL at a crash point, then restart ($name)", (topology) => {
  it.each(SCENARIOS)(
    "$point ($why): the welcome email is sent exactly once",
    async ({ point }) => {
      const { env, gateway, count } = await runs.prepare(topology, { BLOSSOM_SEED: "false" });
      const email = `crash-${Date.now()}@example.com`;

      const first = await runs.start({ ...env, BLOSSOM_CRASH_POINTS: point });
      // The reply may or may not make it out before the crash: what counts is the data afterwards.
      await callHttp(gateway, "POST", "/api/users", {
        body: { email, password: "correct horse", name: "Crash" },
      }).catch(() => undefined);
      await runs.expectCrashed(first);

      const second = await runs.start(env);
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
      await runs.stop(second);

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
