import type { MessagePort } from "node:worker_threads";
import { createGateway } from "@blossom/gateway";
import { LogRing } from "@blossom/runtime";
import { currentTracing, type StoredSpan, type TraceReader, type TraceSummary } from "@blossom/telemetry";
import { ClientPool, platformDiscovery } from "../discovery.js";
import { platformLoggers } from "../platform-loggers.js";
import { platformTokenVerifier } from "../platform-verifier.js";
import type { FromGatewayThread, GatewayWorkerData, ToGatewayThread } from "./messages.js";

/**
 * The gateway's thread: builds the gateway at once (while the services' thread starts the
 * services), with its own discovery, clients, token verifier, logger and log ring, as
 * `blossom start gateway` does in a cluster; on `start`, points discovery at where the services
 * listen and listens; on `stop`, stops gracefully. Its spans go to the services' thread, and
 * `GET /api/ops/traces` reads them back from there.
 */
export function runGatewayThread(port: MessagePort, data: GatewayWorkerData): void {
  const send = (message: FromGatewayThread) => port.postMessage(message);
  const asked = new Map<number, (value: unknown) => void>();
  let nextId = 0;
  const ask = <T>(message: (id: number) => FromGatewayThread) =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      asked.set(id, resolve as (value: unknown) => void);
      send(message(id));
    });
  const failed = (error: unknown) =>
    send({ type: "failed", message: String((error as Error)?.stack ?? error) });
  const traces: TraceReader | undefined = data.tracing?.forward
    ? {
        list: (options) => ask<TraceSummary[]>((id) => ({ type: "traces", id, op: "list", options })),
        trace: (traceId) =>
          ask<StoredSpan[] | undefined>((id) => ({ type: "traces", id, op: "trace", traceId })),
      }
    : undefined;
  // Messages that arrive while the gateway is being built wait for it; if it could not be
  // built, each is answered with why.
  const building = build(data, traces);
  port.on("message", (message: ToGatewayThread) => {
    if (message.type === "traces-answer") {
      asked.get(message.id)?.(message.value);
      asked.delete(message.id);
      return;
    }
    building
      .then((built) =>
        message.type === "start"
          ? built
              .start(message.listening)
              .then(({ url, metricsUrl }) => send({ type: "listening", url, metricsUrl }))
          : built.stop().then(() => {
              send({ type: "stopped" });
              port.close();
            }),
      )
      .catch(failed);
  });
  // Its failure is told to each message that waits for it, not thrown here.
  building.catch(() => {});
}

interface Built {
  start(listening: Record<string, string>): Promise<{ url: string; metricsUrl: string | undefined }>;
  stop(): Promise<void>;
}

async function build(data: GatewayWorkerData, traces: TraceReader | undefined): Promise<Built> {
  const logs = new LogRing();
  const logger = platformLoggers({ pretty: data.prettyLogs, levelOf: () => data.logLevel })(data.name, logs);
  const discovery = platformDiscovery(data.upstreams, {
    dnsRefreshMs: data.dnsRefreshMs,
    onDnsError: (service, error) =>
      logger.warn({ err: error, service }, "DNS discovery failed; keeping the last instances"),
  });
  await discovery.ready();
  const clients = new ClientPool(discovery, { serviceSecret: data.serviceSecret });
  const gateway = await createGateway({
    ...data.gateway,
    logger,
    logs,
    clients,
    verifier: platformTokenVerifier(clients),
    traces,
  });
  return {
    async start(listening) {
      for (const [service, url] of Object.entries(listening)) discovery.set(service, [url]);
      const url = await gateway.listen();
      return { url, metricsUrl: gateway.metricsUrl };
    },
    async stop() {
      await gateway.stopAccepting();
      await gateway.close();
      await clients.close();
      discovery.close();
      // The last spans go to the services' thread before the thread ends.
      await currentTracing()
        ?.flush()
        .catch((error: unknown) => logger.warn({ err: error }, "could not hand over the last spans"));
    },
  };
}
