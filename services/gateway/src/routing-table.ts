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

/** The owning service of a path, or undefined when no service owns it. */
export function routeFor(path: string): string | undefined {
  const match = ROUTES.filter(
    (route) =>
      path === route.prefix || path.startsWith(`${route.prefix}/`) || path.startsWith(`${route.prefix}?`),
  ).sort((a, b) => b.prefix.length - a.prefix.length)[0];
  return match?.service;
}
