// The entry point of the gateway's thread of `npm start` (see gateway-thread.ts). Tracing first,
// as in main.ts: the instrumentations must be registered before what they patch is loaded.
import { parentPort, workerData } from "node:worker_threads";
import { SpanForwarder, startTracing } from "@blossom/telemetry";
import type { FromGatewayThread, GatewayWorkerData } from "./messages.js";

const data = workerData as GatewayWorkerData;
const port = parentPort;
if (!port) throw new Error("gateway-worker.ts runs as a worker thread only");
if (data.tracing) {
  const forward = data.tracing.forward;
  await startTracing({
    serviceName: "gateway",
    version: "0.1.0",
    environment: data.environment,
    // No buffer of its own: the services' thread keeps every span of the process.
    bufferSpans: 0,
    usesPg: false,
    env: process.env,
    processors: forward
      ? [new SpanForwarder((spans) => port.postMessage({ type: "spans", spans } satisfies FromGatewayThread))]
      : [],
  });
}
const { runGatewayThread } = await import("./gateway-worker-run.js");
runGatewayThread(port, data);
