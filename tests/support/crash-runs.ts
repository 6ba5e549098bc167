import {
  type BlossomProcess,
  deathOf,
  freePort,
  killAll,
  spawnBlossom,
  testEnv,
  waitForReady,
} from "@blossom/testkit";
import { afterEach, expect } from "vitest";
import { type PreparedTopology, prepareTopology, type Topology } from "./topologies.js";

/** One crash test's run: fresh databases, a free port, and the variables that point the platform at both. */
export interface CrashRun extends PreparedTopology {
  /** The gateway's base URL. */
  gateway: string;
}

/**
 * What a crash test does to `blossom start` processes, in one place: prepare a topology, start
 * the platform on it, expect the SIGKILL of an armed crash point, stop it cleanly. Registers an
 * `afterEach` that kills whatever is left running and destroys the prepared topologies.
 */
export function crashRuns() {
  const running: BlossomProcess[] = [];
  const prepared: PreparedTopology[] = [];
  afterEach(async () => {
    await killAll(running);
    for (const topology of prepared.splice(0)) await topology.destroy();
  });
  return {
    /** Fresh databases for `topology`, with a free port in `env` (`extra` added). */
    async prepare(topology: Topology, extra: Record<string, string> = {}): Promise<CrashRun> {
      const run = await prepareTopology(topology);
      prepared.push(run);
      const port = await freePort();
      return {
        ...run,
        env: { ...run.env, ...testEnv(port), ...extra },
        gateway: `http://127.0.0.1:${port}`,
      };
    },
    /** `blossom start` with `env`, once it is ready. */
    async start(env: Record<string, string>): Promise<BlossomProcess> {
      const started = spawnBlossom(["start"], env);
      running.push(started);
      await waitForReady(started);
      return started;
    },
    /** Waits for `armed` to die, and expects the SIGKILL of its crash point. */
    async expectCrashed(armed: BlossomProcess): Promise<void> {
      const death = await deathOf(armed);
      expect(death, `the crash point was never reached:\n${armed.output()}`).toEqual({
        code: null,
        signal: "SIGKILL",
      });
    },
    /** SIGTERM, and expects a clean exit. */
    async stop(platform: BlossomProcess): Promise<void> {
      platform.child.kill("SIGTERM");
      expect(await platform.exited).toEqual({ code: 0, signal: null });
    },
  };
}
