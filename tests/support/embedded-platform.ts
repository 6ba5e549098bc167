import { rm } from "node:fs/promises";
import { makeTempDir, testEnv } from "@blossom/testkit";
import { type RunningPlatform, startPlatform } from "../../apps/blossom/src/commands/start.js";
import { readConfig } from "../../apps/blossom/src/config.js";
import { RUNNABLE_NAMES } from "../../apps/blossom/src/topology.js";

export interface TestPlatform extends RunningPlatform {
  gateway: string;
  dataDir: string;
  /** Stops and removes the data directory. */
  destroy(): Promise<void>;
}

/**
 * Starts the whole platform in this process, as `blossom start` does, on free ports and a fresh
 * data directory (or the given one, to test a restart). Extra variables go through the same
 * configuration loader as the command's. The one part of the test kit that stays here: it imports
 * apps/blossom, which `@blossom/testkit` (a package) must not; the variables and the temporary
 * directory come from the kit.
 */
export async function startTestPlatform(
  env: Record<string, string> = {},
  dataDir?: string,
  names: string[] = RUNNABLE_NAMES,
): Promise<TestPlatform> {
  const dir = dataDir ?? (await makeTempDir("platform"));
  const config = readConfig({
    BLOSSOM_DATA_DIR: dir,
    ...testEnv(0),
    LOG_FORMAT: "json",

    NODE_ENV: "test",
    BLOSSOM_SEED: "true",
    ...env,
  });
  const platform = await startPlatform(config, names);

  const gateway = platform.urls.get("gateway");
  if (!gateway) throw new Error("gateway did not start");
  return {
    ...platform,
    gateway,
    dataDir: dir,
    async destroy() {
      await platform.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Every runnable's `GET /metrics` text, by name (the gateway's from its internal listener); each
 * answer must be a 200 in Prometheus' text format.
 */
export async function scrapeEveryRunnable(platform: RunningPlatform): Promise<Map<string, string>> {
  const expositions = new Map<string, string>();
  for (const name of RUNNABLE_NAMES) {
    const response = await fetch(`${platform.metricsUrls.get(name)}/metrics`);
    const type = response.headers.get("content-type") ?? "";
    if (response.status !== 200 || !/^text\/plain; version=0\.0\.4/.test(type))
      throw new Error(`${name}: GET /metrics answered ${response.status} ${type}`);
    expositions.set(name, await response.text());
  }
  return expositions;
}
