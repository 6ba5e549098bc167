import { migrateDown, migrateToLatest, migrationStatus, openStore } from "@blossom/store";
import type { PlatformConfig } from "../config.js";
import { serviceSetting } from "../config.js";
import { definitionOf, SERVICE_NAMES } from "../topology.js";

export class UsageError extends Error {}

/** `blossom migrate up|down|status <service|all> [--steps n]`: runs a service's migrations on its own database. */
export async function migrateCommand(
  config: PlatformConfig,
  direction: string,
  target: string | undefined,
  steps: number,
): Promise<void> {
  if (!["up", "down", "status"].includes(direction))
    throw new UsageError(`migrate: expected up, down or status, got "${direction}"`);
  if (!target)
    throw new UsageError(`migrate ${direction}: name a service (${SERVICE_NAMES.join(", ")}) or "all"`);
  const names = target === "all" ? SERVICE_NAMES : [target];
  for (const name of names) {
    const definition = definitionOf(name);
    if (!definition)
      throw new UsageError(`migrate: unknown service "${name}" (one of ${SERVICE_NAMES.join(", ")})`);
    const databaseUrl =
      (serviceSetting(config, name, "DATABASE_URL") as string | undefined) ??
      (names.length === 1 ? config.DATABASE_URL : undefined);
    const store = await openStore({ service: name, databaseUrl, dataDir: config.BLOSSOM_DATA_DIR });
    try {
      if (direction === "up") {
        const applied = await migrateToLatest(store, definition.migrations);
        process.stdout.write(
          `${name}: ${applied.length === 0 ? "up to date" : `applied ${applied.join(", ")}`}\n`,
        );
      } else if (direction === "down") {
        const reverted = await migrateDown(store, definition.migrations, steps);
        process.stdout.write(
          `${name}: ${reverted.length === 0 ? "nothing to revert" : `reverted ${reverted.join(", ")}`}\n`,
        );
      } else {
        for (const status of await migrationStatus(store, definition.migrations)) {
          process.stdout.write(
            `${name}  ${status.executedAt ? `applied ${status.executedAt.toISOString()}` : "pending"}  ${status.name}\n`,
          );
        }
      }
    } finally {
      await store.close();
    }
  }
}
