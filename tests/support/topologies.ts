import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NatsBus } from "@blossom/bus/nats";
import { dropPostgresDatabase, ensurePostgresDatabase, openStore, withDatabaseName } from "@blossom/store";
import { testAdapters } from "@blossom/testkit";
import type { RawBuilder } from "kysely";

/**
 * The topologies the cross-service tests run on, chosen like the contract suites by
 * BLOSSOM_TEST_ADAPTERS: the embedded default (PGlite + in-memory bus) for `npm test`, and
 * PostgreSQL (a database per service) + NATS JetStream in CI's distributed run.
 */
export const adapters = testAdapters();

/** Which topologies to crash: the embedded default, and JetStream + PostgreSQL when CI names them. */
export const TOPOLOGIES = [
  ...(adapters.bus.includes("memory")
    ? [{ name: "PGlite + memory bus", bus: "memory", store: "pglite" } as const]
    : []),
  ...(adapters.bus.includes("nats")
    ? [
        {
          name: adapters.store.includes("postgres")
            ? "PostgreSQL + NATS JetStream"
            : "PGlite + NATS JetStream",
          bus: "nats",
          store: adapters.store.includes("postgres") ? "postgres" : "pglite",
        } as const,
      ]
    : []),
];
export const SERVICES = ["users", "inventory", "orders", "payments", "notifications"];

export type Topology = (typeof TOPOLOGIES)[number];

export interface PreparedTopology {
  /** Variables that point the platform at this run's databases and bus namespace. */
  env: Record<string, string>;
  /** Counts rows in a service's database (for PGlite: once the platform has stopped). */
  count(service: string, query: RawBuilder<{ count: string }>): Promise<number>;
  /** Drops the databases, the streams and the data directory. */
  destroy(): Promise<void>;
}

/** Fresh databases and a fresh bus namespace for one run. */
export async function prepareTopology(topology: Topology): Promise<PreparedTopology> {
  const cleanups: Array<() => Promise<void>> = [];
  const dataDir = mkdtempSync(join(tmpdir(), "blossom-topology-"));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = { BLOSSOM_DATA_DIR: dataDir };
  const tag = `t_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  if (topology.store === "postgres") {
    for (const service of SERVICES) {
      const name = `${tag}_${service}`;
      await ensurePostgresDatabase(adapters.postgresUrl, name);
      env[`${service.toUpperCase()}_DATABASE_URL`] = withDatabaseName(adapters.postgresUrl, name);
      cleanups.push(() => dropPostgresDatabase(adapters.postgresUrl, name));
    }
  }
  if (topology.bus === "nats") {
    Object.assign(env, {
      NATS_URL: adapters.natsUrl,
      BLOSSOM_NATS_PREFIX: tag,
      BLOSSOM_NATS_ACK_WAIT_MS: "1000",
    });
    cleanups.push(async () => {
      const bus = await NatsBus.connect({ url: adapters.natsUrl, prefix: tag });
      await bus.destroyStreams();
      await bus.close();
    });
  }
  return {
    env,
    async count(service, query) {
      const databaseUrl = env[`${service.toUpperCase()}_DATABASE_URL`];
      const store = await openStore<unknown>({ service, dataDir, databaseUrl });
      try {
        const result = await query.execute(store.db);
        return Number(result.rows[0]?.count ?? 0);
      } finally {
        await store.close();
      }
    },
    async destroy() {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    },
  };
}
