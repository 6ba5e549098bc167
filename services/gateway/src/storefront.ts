import { existsSync, readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { App } from "@blossom/runtime";
import fastifyStatic from "@fastify/static";
import { routeFor } from "./routing-table.js";

/**
 * Where `npm install` builds the storefront (apps/web, `vite build`): beside this file's package
 * in the repository, from its sources (src/) and its build (dist/) alike.
 */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../../apps/web/dist/", import.meta.url));

/** Paths the shop never shadows: the API, the docs, the document, health, metrics, the JWKS. */
const RESERVED = /^\/(?:api|docs|openapi\.json|health|metrics|\.well-known)(?:[/?]|$)/;

/** A path of the shop's own: neither reserved nor owned by a service (query ignored). */
function isShopPath(path: string): boolean {
  return !RESERVED.test(path) && routeFor(path) === undefined;
}

/**
 * Whether a request is the storefront's (a GET or HEAD of a shop path: `/`, `/assets/*`, the
 * favicon, a client route) rather than the API's. Such requests are not counted against the
 * per-IP API rate limit (rate-limit.ts): a page load fetches several static files, each cheap
 * (read from disk, cached for a year when hashed, answered without any upstream), and counting
 * them would let a few reloads use up an anonymous visitor's budget for `/api`. Everything under
 * `/api`, the docs and the document, and every other method, stays limited. Decided on the
 * canonical path, as every stage is.
 */
export function isStorefrontRequest(method: string, url: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  return isShopPath(url.split("?", 1)[0] ?? url);
}

/**
 * The shop's content security policy: its own scripts, styles, images and API only. No inline
 * script or style, no `eval`, no framing, no plugins; forms post to the shop itself.
 */
export const STOREFRONT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Vite's content-hashed output: never changes under its name, so cached for a year. */
const IMMUTABLE = "public, max-age=31536000, immutable";

/** Every file under `root`, as the URL path it is served at. */
function servedPaths(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? servedPaths(root, path) : [`/${relative(root, path).split(sep).join("/")}`];
  });
}

/**
 * The storefront's static files at `/`, from `root` (the built apps/web; unset = the repository's
 * apps/web/dist; `false` = no shop). Nothing is registered when the build is missing: the API
 * works without it.
 *
 * - Hashed assets (`/assets/*`): `Cache-Control: public, max-age=31536000, immutable`.
 * - `index.html` and the other files: `no-cache` (revalidated each time, by ETag), so a new
 *   build is picked up at the next page load.
 * - SPA fallback: a GET or HEAD that asks for HTML (`Accept: text/html`, as a browser's navigation
 *   does) on a path that is neither a file nor reserved (`/api`, `/docs`, `/openapi.json`,
 *   `/health`, `/metrics`, `/.well-known`) gets `index.html`, and the app routes it (its own 404
 *   page included). Any other request is the proxy's, unchanged.
 * - Every file the shop serves carries STOREFRONT_CSP instead of the API's `default-src 'none'`.
 *
 * The files are listed once, at start-up (one route each, no wildcard route to compete with the
 * proxy's): a rebuild needs a restart, which `npm start` after `npm install` is anyway.
 */
export async function registerStorefront(app: App, root: string | false | undefined): Promise<void> {
  const dir = root === undefined ? DEFAULT_WEB_ROOT : root;
  if (dir === false || !existsSync(join(dir, "index.html"))) return;
  const files = new Set(servedPaths(dir));
  await app.register(fastifyStatic, {
    root: dir,
    wildcard: false,
    index: "index.html",
    cacheControl: false,
    setHeaders(reply, path) {
      const immutable = path.startsWith(join(dir, "assets") + sep);
      reply.header("cache-control", immutable ? IMMUTABLE : "no-cache");
      reply.header("content-security-policy", STOREFRONT_CSP);
    },
  });
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "GET" && request.method !== "HEAD") return;
    const accept = request.headers.accept;
    if (typeof accept !== "string" || !accept.includes("text/html")) return;
    const path = request.url.split("?", 1)[0] ?? request.url;
    if (files.has(path) || path === "/" || !isShopPath(path)) return;
    await reply.sendFile("index.html");
    return reply;
  });
}
