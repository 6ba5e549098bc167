/** The public contract of payments: the only module other services may import. */
export * from "./api/schemas.js";
export * from "./events/contracts.js";
