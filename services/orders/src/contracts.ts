/** The public contract of orders: the only module other services may import. */
export * from "./api/schemas.js";
export * from "./events/contracts.js";
