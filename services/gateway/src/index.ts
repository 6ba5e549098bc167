export { createGateway, DEFAULT_UPSTREAM_CONCURRENCY, type GatewayOptions } from "./gateway.js";
export { ROUTES, routeFor, UPSTREAM_SERVICES } from "./routing-table.js";
