import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ServiceMetrics } from "@blossom/telemetry";

export interface MetricsServer {
  /** `http://host:port` of the listener; scrape `<url>/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` on a listener of its own, for a process whose main port faces the internet
 * (the gateway): the exposition names the Node version, the upstreams and their breaker states
 * and per-route counts, which is for the scraper, not for anybody who can reach the shop. Bind it
 * where only Prometheus reaches (a pod port that no Service or Ingress exposes). Anything else on
 * this listener is 404; it has no other route and no body parsing.
 */
export async function serveMetrics(options: {
  metrics: ServiceMetrics;
  host: string;
  port: number;
}): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?", 1)[0];
    if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    options.metrics.exposition().then(
      (text) => {
        response.writeHead(200, { "content-type": options.metrics.contentType });
        response.end(request.method === "HEAD" ? undefined : text);
      },
      () => response.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("metrics failed\n"),
    );
  });
  // A scraper keeps its connection open between scrapes: do not let it hold a stop.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
