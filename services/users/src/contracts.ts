/** The public contract of users: the only module other services may import. */
export * from "./api/schemas.js";
export * from "./events/contracts.js";
