import { once } from "node:events";
import { createServer } from "node:net";
import { Worker } from "node:worker_threads";
import { makeTempDir } from "@blossom/testkit";
import { describe, expect, it } from "vitest";
import { startTestPlatform } from "./support/embedded-platform.js";

/**
 * Asks the gateway for `GET /health/live` (answered by the gateway itself) from a thread of its
 * own, while this thread (the services' event loop) is blocked for up to `blockMs`: the status
 * the gateway answered within that time, or 0 when it did not answer. Not a timing test: with the
 * gateway on its own thread the answer wakes this thread at once; with the gateway on this thread
 * it cannot answer before the block ends, however long the block.
 */
async function answeredWhileBlocked(gateway: string, blockMs: number): Promise<number> {
  const status = new Int32Array(new SharedArrayBuffer(4));
  const started = new Int32Array(new SharedArrayBuffer(4));
  const client = new Worker(
    `const { workerData } = require("node:worker_threads");
     Atomics.store(workerData.started, 0, 1);
     Atomics.notify(workerData.started, 0);
     fetch(workerData.url).then(
       (response) => { Atomics.store(workerData.status, 0, response.status); Atomics.notify(workerData.status, 0); },
       () => { Atomics.store(workerData.status, 0, -1); Atomics.notify(workerData.status, 0); },
     );`,
    { eval: true, workerData: { url: `${gateway}/health/live`, status, started } },
  );
  try {
    // The client thread runs before the block starts, so the block measures only the gateway.
    Atomics.wait(started, 0, 0, 10_000);
    Atomics.wait(status, 0, 0, blockMs);
    return Atomics.load(status, 0);
  } finally {
    await client.terminate();
  }
}

describe("the gateway's thread (BLOSSOM_GATEWAY_THREAD)", () => {
  it("worker, the default: the gateway answers while the services' event loop is blocked, and proxies to the services", async () => {
    const platform = await startTestPlatform();
    try {
      const products = await fetch(`${platform.gateway}/api/inventory/products?limit=1`);
      expect(products.status).toBe(200);
      expect(((await products.json()) as { items: unknown[] }).items).toHaveLength(1);
      expect(await answeredWhileBlocked(platform.gateway, 10_000)).toBe(200);
    } finally {
      await platform.destroy();
    }
  });

  it("main: the gateway shares the services' event loop, so it cannot answer while that is blocked", async () => {
    const platform = await startTestPlatform({ BLOSSOM_GATEWAY_THREAD: "main" });
    try {
      expect(await answeredWhileBlocked(platform.gateway, 1_500)).toBe(0);
      expect((await fetch(`${platform.gateway}/health/live`)).status).toBe(200);
    } finally {
      await platform.destroy();
    }
  });

  it("a gateway that cannot listen fails the start with the reason, and the services are stopped", async () => {
    const taken = createServer();
    taken.listen(0, "127.0.0.1");
    await once(taken, "listening");
    const address = taken.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const dataDir = await makeTempDir("gateway-thread");
    try {
      await expect(startTestPlatform({ GATEWAY_PORT: String(port) }, dataDir)).rejects.toThrow(
        /the gateway's thread failed: .*EADDRINUSE/s,
      );
      // The services' databases were closed: the same data directory starts again.
      const again = await startTestPlatform({}, dataDir);
      expect((await fetch(`${again.gateway}/health/live`)).status).toBe(200);
      await again.destroy();
    } finally {
      taken.close();
    }
  });
});
