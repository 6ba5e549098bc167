import type { IncomingMessage } from "node:http";
import { type App, HttpProblem } from "@blossom/runtime";
import { canonicalPath } from "./canonical-path.js";

// Why a path was refused, from routing (where Fastify lets the URL be rewritten but not
// answered) to the first hook that can answer.
const refusals = new WeakMap<IncomingMessage, string>();

/**
 * Fastify's `rewriteUrl`: every request is routed, classified and forwarded on its canonical
 * path (`request.url`); `request.originalUrl` keeps what the client sent. A path that has no
 * canonical form keeps its URL here and is refused by `registerCanonicalPathStage`.
 */
export function rewriteToCanonicalPath(request: IncomingMessage): string {
  const url = request.url ?? "/";
  const canonical = canonicalPath(url);
  if (canonical.ok) return canonical.url;
  refusals.set(request, canonical.reason);
  return url;
}

/**
 * The stage before rate limiting and authentication: a path that could mean two routes is
 * answered 400 problem+json before anything else decides about it.
 */
export function registerCanonicalPathStage(app: App): void {
  // A callback hook, not an async one: no promise per request for a check that is synchronous.
  app.addHook("onRequest", (request, _reply, done) => {
    const reason = refusals.get(request.raw);
    if (reason !== undefined)
      done(HttpProblem.of("malformedUrl", `${reason}: send the path in its canonical form.`));
    else done();
  });
}
