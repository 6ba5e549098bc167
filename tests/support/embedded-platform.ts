import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningPlatform, startPlatform } from "../../apps/blossom/src/commands/start.js";
import { readConfig } from "../../apps/blossom/src/config.js";
import { RUNNABLE_NAMES } from "../../apps/blossom/src/topology.js";
import { testEnv } from "./blossom-process.js";

export interface TestPlatform extends RunningPlatform {
  gateway: string;
  dataDir: string;
  /** Stops and removes the data directory. */
  destroy(): Promise<void>;
}

/**
 * Starts the whole platform in this process, as `blossom start` does, on free ports and a fresh
 * data directory (or the given one, to test a restart). Extra variables go through the same
 * configuration loader as the command's.
 */
export async function startTestPlatform(
  env: Record<string, string> = {},
  dataDir?: string,
  names: string[] = RUNNABLE_NAMES,
): Promise<TestPlatform> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "blossom-test-"));
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
      rmSync(dir, { recursive: true, force: true });
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
