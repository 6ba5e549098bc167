// The service's published events live in its contract package, the only part other services import.
export * from "@blossom/inventory-contracts";
