/**
 * Which service owns which public path. The gateway forwards a request to the owner of the
 * longest matching prefix, with the path unchanged (services mount their routes under
 * `/api/<service>`), so a service answers the same URL directly and through the gateway.
 */
export const ROUTES: ReadonlyArray<{ prefix: string; service: string }> = [
  { prefix: "/api/users", service: "users" },
  { prefix: "/api/auth", service: "users" },
  { prefix: "/.well-known/jwks.json", service: "users" },
  { prefix: "/api/inventory", service: "inventory" },
  { prefix: "/api/orders", service: "orders" },
  { prefix: "/api/payments", service: "payments" },
  { prefix: "/api/notifications", service: "notifications" },
];

export const UPSTREAM_SERVICES = [...new Set(ROUTES.map((route) => route.service))];

// Longest prefix first (a stable sort: among equal lengths, the table's order), so the first
// match is the owner; computed once, not per request.
const BY_LONGEST_PREFIX = [...ROUTES].sort((a, b) => b.prefix.length - a.prefix.length);

/** The owning service of a path, or undefined when no service owns it. */
export function routeFor(path: string): string | undefined {
  for (const route of BY_LONGEST_PREFIX) {
    const { prefix } = route;
    if (!path.startsWith(prefix)) continue;
    const next = path.length === prefix.length ? "" : path[prefix.length];
    if (next === "" || next === "/" || next === "?") return route.service;
  }
  return undefined;
}
