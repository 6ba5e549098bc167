/** The route label of a request no route matched (a 404): never the raw URL, which is unbounded. */
export const UNMATCHED_ROUTE = "unmatched";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * The labels of one HTTP request in the RED histogram, each from a small fixed set: the method
 * (an unusual one is `_OTHER`, as OpenTelemetry does, since a client may send any token), the
 * route template (`/api/orders/:id`, never `/api/orders/4f…`) and the status class (`2xx`…).
 */
export function httpLabels(
  method: string,
  routeTemplate: string | undefined,
  statusCode: number,
): { method: string; route: string; status_class: string } {
  return {
    method: KNOWN_METHODS.has(method) ? method : "_OTHER",
    route: routeTemplate || UNMATCHED_ROUTE,
    status_class: statusClass(statusCode),
  };
}

/** `2xx`, `4xx`…; anything outside 100–599 is `unknown`. */
export function statusClass(statusCode: number): string {
  return statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : "unknown";
}
