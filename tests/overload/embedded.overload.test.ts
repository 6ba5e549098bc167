import { startTestPlatform } from "../support/embedded-platform.js";
import { overloadSuite } from "./support/overload-suite.js";

/**
 * Issue 15 on the embedded default (`blossom start`: every service and the gateway in one
 * process, PGlite, in-memory bus), started in this process as the other embedded suites do.
 */
overloadSuite("embedded: PGlite + memory bus", {
  async start(env) {
    const platform = await startTestPlatform(env);
    return { gateway: platform.gateway, stop: () => platform.destroy() };
  },
  burst: 64,
  checkoutRate: 60,
  checkoutMs: 6_000,
});
