import { join } from "node:path";
import { cpuProfileArgs, cpuSeconds, startEmbeddedPlatform, stopProcess } from "../processes.js";
import { type Platform, type PlatformSetup, platformEnv } from "./platform.js";

/** The embedded default: one `blossom start` process, every service and the gateway, PGlite, in-memory bus. */
export async function startEmbedded(setup: PlatformSetup): Promise<Platform> {
  const began = performance.now();
  // BENCH_CHECKOUT_CPU_PROF: the process writes its CPU profile there when it stops.
  const { proc, gateway } = await startEmbeddedPlatform(
    join(setup.dir, "embedded"),
    platformEnv(setup),
    cpuProfileArgs(setup.environment.cpuProfileDir),
  );
  const pid = proc.child.pid ?? 0;
  return {
    pid,
    rows: [],
    gateways: [gateway],
    processes: 1,
    startSeconds: (performance.now() - began) / 1000,
    cpu: () => cpuSeconds(pid),
    async stop() {
      await stopProcess(proc.child, proc.exited);
      return [];
    },
  };
}
