import type { App } from "@blossom/runtime";
import cors from "@fastify/cors";
import helmet from "@fastify/helmet";

const DOCS = /^\/docs(\/|\?|$)/;

export interface SecurityHeadersOptions {
  /** Origins allowed to call the API from a browser (exact matches). Empty: no cross-origin access. */
  corsOrigins?: readonly string[];
}

/**
 * Security headers and CORS, the stage after request ids. The gateway serves JSON, not pages, so
 * helmet's content security policy is reduced to "nothing may be loaded or framed"
 * (`default-src 'none'; frame-ancestors 'none'`), which a JSON client never notices (the
 * `/docs` page gets helmet's default policy instead);
 * HSTS, `nosniff`, `no-referrer`, and the cross-origin policies stay at helmet's defaults.
 * CORS answers only the listed origins (and their preflights); any other origin gets no
 * `Access-Control-Allow-Origin`, so browsers refuse to hand it the answer.
 */
export async function registerSecurityHeaders(app: App, options: SecurityHeadersOptions = {}): Promise<void> {
  await app.register(helmet, {
    global: false,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
  });
  // The docs page is the one HTML page: it gets helmet's default policy (own scripts, styles and
  // images), every JSON answer the one that allows nothing.
  app.addHook("onRequest", async (request, reply) => {
    reply.helmet(DOCS.test(request.url) ? { contentSecurityPolicy: { useDefaults: true } } : undefined);
  });
  const allowed = new Set(options.corsOrigins ?? []);
  await app.register(cors, {
    // `false` for an unknown origin: no CORS headers at all.
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    allowedHeaders: ["authorization", "content-type", "idempotency-key", "x-request-id", "x-correlation-id"],
    exposedHeaders: [
      "location",
      "retry-after",
      "www-authenticate",
      "x-request-id",
      "x-correlation-id",
      "ratelimit-limit",
      "ratelimit-remaining",
      "ratelimit-reset",
      "preference-applied",
      "idempotent-replayed",
    ],
    maxAge: 600,
  });
}
