import type { HttpMethod, UpstreamStreamResponse } from "@blossom/client";
import { DEFAULT_TIMEOUT_MS, isUpstreamHttpError } from "@blossom/client";
import type { ServiceClients } from "@blossom/host";
import { type App, HttpProblem, preferredWaitSeconds, propagationHeaders } from "@blossom/runtime";
import { MAX_BODY_DEPTH, nestsDeeperThan } from "./body-depth.js";
import type { Bulkhead } from "./bulkhead.js";
import { forwardedRequestHeaders, pickResponseHeaders } from "./forwarded-headers.js";
import { upstreamTimeoutMs } from "./route-budgets.js";
import { routeFor } from "./routing-table.js";
import type { ShedEcho } from "./shed-echo.js";

/** The longest `Prefer: wait` the gateway waits out for an upstream. */
const MAX_FORWARDED_WAIT_SECONDS = 30;

const METHODS: HttpMethod[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/**
 * Forwards `/api/<service>/…` to the owning service through its resilient client: load
 * balanced over its instances, with a per-call timeout, retries only for idempotent requests or
 * those with an `Idempotency-Key`, and a circuit breaker per instance. An upstream's own answer
 * (2xx or a problem) goes back unchanged; a failing upstream becomes 502/503/504 problem+json
 * naming the service.
 */
export function registerProxy(
  app: App,
  clients: ServiceClients,
  bulkhead?: Bulkhead,
  /** Told of every operation a service shed for a moment (SHED_OPERATION_HEADER), for the door (shed-echo.ts). */
  echo?: ShedEcho,
): void {
  // Requests a service is holding for `Prefer: wait`: a stopping gateway must not wait them out
  // (up to MAX_FORWARDED_WAIT_SECONDS each), so it cuts the wait and asks again without it.
  const held = new Set<AbortController>();
  app.addHook("preClose", (done) => {
    for (const wait of held) wait.abort();
    done();
  });
  app.route({
    method: METHODS,
    url: "/*",
    handler: async (request, reply) => {
      const service = routeFor(request.url);
      if (!service)
        throw HttpProblem.of("notFound", `No route for ${request.method} ${request.url.split("?")[0]}`);
      // Request and correlation ids and trace context travel on, whatever clients the gateway was given.
      // The chain grows by the address this connection came from (with trusted proxies,
      // `request.ip` is already the client's, taken from the chain itself).
      const peer = request.raw.socket.remoteAddress ?? request.ip;
      const headers = Object.assign(forwardedRequestHeaders(request.headers, peer), propagationHeaders());

      const idempotencyKey = headers["idempotency-key"];
      // One client's failing requests must not open the breaker for everybody: it counts callers.
      const caller = request.principal ? `user:${request.principal.userId}` : `ip:${request.ip}`;
      // A service may hold an answer for as long as `Prefer: wait` allows: the attempt's timeout
      // grows by that much (the service caps the wait itself; so does this).
      const wait = Math.min(preferredWaitSeconds(headers.prefer) ?? 0, MAX_FORWARDED_WAIT_SECONDS);
      // Longer than the usual 2 s for an operation its service declares slow (password hashing):
      // the service sheds what it cannot finish in time, so the gateway waits for the rest.
      const timeoutMs = upstreamTimeoutMs(request.method, request.url);
      if (request.body !== undefined && nestsDeeperThan(request.body, MAX_BODY_DEPTH))
        throw HttpProblem.of("malformedBody", `The JSON body nests deeper than ${MAX_BODY_DEPTH} levels.`);
      try {
        // Streamed, not buffered: server-sent events and large answers pass through as they
        // arrive, and the gateway never decodes and re-encodes a body it only forwards.
        const forward =
          (forwarded: Record<string, string>, hold?: AbortController) =>
          (): Promise<UpstreamStreamResponse> =>
            clients.get(service).stream({
              method: request.method as HttpMethod,
              path: request.url,
              headers: forwarded,
              ...(request.body === undefined ? {} : { body: request.body }),
              ...(idempotencyKey ? { idempotencyKey } : {}),
              caller,
              // The client decides when to come back from a shed 503, not the gateway.
              passOnShed: true,
              ...(hold
                ? {
                    timeoutMs: (timeoutMs ?? DEFAULT_TIMEOUT_MS) + wait * 1000,
                    signal: hold.signal,
                    held: true,
                  }
                : timeoutMs === undefined
                  ? {}
                  : { timeoutMs }),
            });
        // At most N requests in flight per service: a slow one cannot take every other's capacity.
        // A held request has slots (and upstream connections) of its own: see Bulkhead.
        const send = (attempt: () => Promise<UpstreamStreamResponse>, held = false) =>
          bulkhead ? bulkhead.run(service, attempt, held) : attempt();
        let answer: UpstreamStreamResponse;
        if (wait > 0) {
          const hold = new AbortController();
          held.add(hold);
          try {
            answer = await send(forward(headers, hold), true);
          } catch (error) {
            if (!hold.signal.aborted) throw error;
            // The gateway is stopping: what the service has now, without waiting any longer.
            const { prefer: _waitCut, ...withoutWait } = headers;
            answer = await send(forward(withoutWait));
          } finally {
            held.delete(hold);
          }
        } else {
          answer = await send(forward(headers));
        }
        echo?.observe(request.method, request.url, answer.status, answer.headers);
        reply.code(answer.status).headers(pickResponseHeaders(answer.headers));
        // A small answer of known length (most JSON) is read whole and sent in one write with its
        // headers: piping it through a stream cost more CPU than the forwarding itself.
        const small = await readSmallBody(answer);
        if (small === FAILED) {
          // The upstream broke off its answer: the client's connection goes, as when streaming.
          reply.raw.destroy();
          return reply;
        }
        if (small !== undefined) return reply.send(small);
        // A client that goes away must not leave the upstream streaming to nobody.
        reply.raw.once("close", () => answer.body.destroy());
        return reply.send(answer.body);
      } catch (error) {
        // The service answered: its status and problem go back as they are (a service never puts
        // internals in a problem). Only a missing answer becomes the gateway's own 502/503/504.
        if (isUpstreamHttpError(error)) {
          echo?.observe(request.method, request.url, error.status, error.headers);
          return reply.code(error.status).headers(pickResponseHeaders(error.headers)).send(error.body);
        }
        throw error;
      }
    },
  });
}

/** Answers up to this size with a declared length are buffered, not streamed. */
const SMALL_ANSWER_BYTES = 64 * 1024;
const FAILED = Symbol("failed");

/**
 * The whole body of a small answer with a `Content-Length`, or undefined for one to stream
 * (no length: server-sent events, chunked; or a large one), or FAILED when the upstream broke
 * it off.
 */
async function readSmallBody(answer: UpstreamStreamResponse): Promise<Buffer | undefined | typeof FAILED> {
  const declared = answer.headers["content-length"];
  const length = typeof declared === "string" ? Number(declared) : Number.NaN;
  if (!Number.isInteger(length) || length > SMALL_ANSWER_BYTES) return undefined;
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of answer.body) chunks.push(chunk as Buffer);
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  } catch {
    return FAILED;
  }
}
