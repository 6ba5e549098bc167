import type { TokenVerifier } from "@blossom/auth";
import { type App, HttpProblem, type ResponseHeader } from "@blossom/runtime";
import { rateLimitMetrics, type ServiceMetrics } from "@blossom/telemetry";
import rateLimit, { normalizeIP } from "@fastify/rate-limit";
import type { FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import { edgeIdentity } from "./edge-auth.js";
import { isStorefrontRequest } from "./storefront.js";

export interface RateLimitOptions {
  verifier: TokenVerifier;
  /** Requests per minute per user (authenticated) or per client IP (anonymous). Default 600. */
  perMinute?: number;
  /** `POST /api/auth/login` attempts per minute per client IP. Default 10. */
  loginPerMinute?: number;
  /** Shares the counters between gateway replicas; unset = in this process's memory. */
  redisUrl?: string;
  /** Prefix of the Redis keys. Default `blossom:gateway:rate-limit:`. */
  redisKeyPrefix?: string;
  /** Counts refusals (`blossom_rate_limit_rejections_total`). */
  metrics?: ServiceMetrics;
}

const WINDOW_MS = 60_000;

const NON_NEGATIVE_INTEGER = { type: "integer", minimum: 0 };

/**
 * What this stage adds to every answer of every operation (draft RFC "RateLimit header fields",
 * as @fastify/rate-limit's `enableDraftSpec` sends them): documented on each response of the
 * platform's document. Not required: a gateway whose Redis fails lets requests through without
 * them. Its refusal (429) carries `Retry-After`, as every 429 of the document says.
 */
export const RATE_LIMIT_RESPONSE_HEADERS: Readonly<Record<string, ResponseHeader>> = {
  "RateLimit-Limit": {
    description: "Requests allowed in the current one-minute window (per user, or per client IP)",
    schema: NON_NEGATIVE_INTEGER,
  },
  "RateLimit-Remaining": { description: "Requests left in the current window", schema: NON_NEGATIVE_INTEGER },
  "RateLimit-Reset": { description: "Seconds until the current window ends", schema: NON_NEGATIVE_INTEGER },
};

/**
 * The budget a request is counted in: `login` (password guessing, per IP) or `api` (per user or
 * IP). Decided on the canonical path (canonical-path.ts), as every stage is.
 */
export function rateLimitBucket(method: string, url: string): "login" | "api" {
  return method === "POST" && url.split("?", 1)[0] === "/api/auth/login" ? "login" : "api";
}

function isLogin(request: FastifyRequest): boolean {
  return rateLimitBucket(request.method, request.url) === "login";
}

/**
 * Rate limiting, the stage between security headers and authentication, on fixed one-minute
 * windows: per user for a valid token (the principal comes from verifying the token in the key
 * generator; the authentication stage reuses that verification), per client IP otherwise (no
 * token, or one that will be refused), and per IP on a much smaller budget for
 * `POST /api/auth/login` (password guessing). A refusal is 429 problem+json with `Retry-After`
 * and `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset`; those three are on every
 * answer. Health probes, `GET /metrics` and the shop's static files and pages
 * (`isStorefrontRequest`) are not limited. With Redis the counters are shared by every replica;
 * when Redis fails mid-flight the gateway lets requests through (and logs) rather than fail closed.
 */
export async function registerRateLimit(app: App, options: RateLimitOptions): Promise<void> {
  const perMinute = options.perMinute ?? 600;
  const loginPerMinute = options.loginPerMinute ?? 10;
  const rejections = options.metrics ? rateLimitMetrics(options.metrics) : undefined;
  let redis: Redis | undefined;
  if (options.redisUrl) {
    // Imported only when configured: the client costs about 70 ms and 14 MiB to load.
    const { Redis } = await import("ioredis");
    redis = new Redis(options.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
    });
    redis.on("error", (error) => app.log.warn({ err: error }, "rate-limit redis error"));
    // A configured Redis that is unreachable at start is a start failure, like any other store.
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new Error(`rate limiting cannot reach Redis at REDIS_URL: ${(error as Error).message}`);
    }
    const connection = redis;
    app.addHook("onClose", async () => {
      await connection.quit().catch(() => connection.disconnect());
    });
  }
  await app.register(rateLimit, {
    global: false,
    enableDraftSpec: true,
    timeWindow: WINDOW_MS,
    skipOnError: true,
    ...(redis ? { redis, nameSpace: options.redisKeyPrefix ?? "blossom:gateway:rate-limit:" } : {}),
    keyGenerator: async (request) => {
      // An IPv6 client is counted by its /64, as the plugin's own IP keys are: a host has many addresses.
      const ip = normalizeIP(request.ip);
      if (isLogin(request)) return `login:${ip}`;
      // No token, no identity to wait for (edgeIdentity's answer would be "anonymous").
      if (!request.headers.authorization) return `ip:${ip}`;
      const identity = await edgeIdentity(request, options.verifier);
      return identity.kind === "user" ? `user:${identity.principal.userId}` : `ip:${ip}`;
    },
    max: (_request, key) => (key.startsWith("login:") ? loginPerMinute : perMinute),
    // Probes and Prometheus' scrapes come every few seconds from the same address, and a page
    // load of the shop fetches several static files (storefront.ts): none of them is limited.
    allowList: (request) =>
      request.url.startsWith("/health/") ||
      request.url.split("?")[0] === "/metrics" ||
      isStorefrontRequest(request.method, request.url),
    errorResponseBuilder: (request, context) => {
      rejections?.rejected(isLogin(request) ? "login" : "api");
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new HttpProblem({
        status: 429,
        slug: "rate-limited",
        title: "Too many requests",
        detail: `Rate limit of ${context.max} requests per minute exceeded; retry in ${seconds} s.`,
        headers: { "retry-after": String(seconds) },
      });
    },
  });
  app.addHook("onRequest", app.rateLimit());
}
