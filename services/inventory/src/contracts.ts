/** The public contract of inventory: the only module other services may import. */
export * from "./api/schemas.js";
export * from "./events/contracts.js";
