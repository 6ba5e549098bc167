export { createGateway, DEFAULT_OVERLOAD_CONCURRENCY, type GatewayOptions } from "./gateway.js";
export { ROUTES, routeFor, UPSTREAM_SERVICES } from "./routing-table.js";
