import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  dropPostgresDatabase,
  ensurePostgresDatabase,
  openPglite,
  openPostgres,
  type Store,
  withDatabaseName,
} from "@blossom/store";
import { type TestAdapters, testAdapters } from "./adapters.js";
import { makeTempDir, sweepStaleTempDirs } from "./temp-dirs.js";

export type StoreAdapter = TestAdapters["store"][number];

/** An empty database of its own, for one test. */
export interface TestDatabase {
  readonly adapter: StoreAdapter;
  /** The PGlite cluster directory or the PostgreSQL URL (no password in test URLs); a store on it reports this, plus its schema on PGlite. */
  readonly location: string;
  /** Opens a store on this database; again after closing it to check what persisted. */
  open<DB>(service?: string): Promise<Store<DB>>;
  /** Closes the stores it opened and deletes the database (DROP DATABASE … WITH (FORCE); a PGlite schema goes with its process's temp dir). Idempotent. */
  destroy(): Promise<void>;
}

/** Opens isolated databases on one adapter. */
export interface TestStoreFactory {
  readonly adapter: StoreAdapter;
  /** A new empty database that can be opened, closed and reopened until destroyed. */
  createDatabase(): Promise<TestDatabase>;
  /** A store on a new empty database; closing the store deletes the database. */
  openStore<DB>(service?: string): Promise<Store<DB>>;
}

const DEFAULT_SERVICE = "test";

/**
 * One factory per store adapter selected by BLOSSOM_TEST_ADAPTERS, for `describe.each`.
 * PGlite databases live in temp directories; PostgreSQL ones are new randomly named databases
 * on `postgresUrl`. Nothing is skipped: an unreachable server fails `createDatabase`.
 */
export function testStoreFactories(settings: TestAdapters = testAdapters()): TestStoreFactory[] {
  return settings.store.map((adapter) => {
    const createDatabase =
      adapter === "pglite" ? createPgliteDatabase : () => createPostgresDatabase(settings.postgresUrl);
    return {
      adapter,
      createDatabase,
      async openStore<DB>(service = DEFAULT_SERVICE) {
        const database = await createDatabase();
        try {
          return disposing(await database.open<DB>(service), database);
        } catch (err) {
          await database.destroy();
          throw err;
        }
      },
    };
  });
}

/**
 * This process's embedded cluster: every PGlite test database is a schema of its own in it.
 * A store kept open on it keeps it open, so a new database costs a CREATE SCHEMA instead of
 * opening a cluster (about 1 s each). The directory goes with the process (sweepStaleTempDirs).
 */
let workerCluster: Promise<string> | undefined;

function workerClusterDir(): Promise<string> {
  workerCluster ??= (async () => {
    await sweepStaleTempDirs();
    const dataDir = join(await makeTempDir("pglite"), "cluster");
    await openPglite({ dataDir, service: "testkit", schema: "testkit_keeper" });
    return dataDir;
  })().catch((error: unknown) => {
    workerCluster = undefined;
    throw error;
  });
  return workerCluster;
}

async function createPgliteDatabase(): Promise<TestDatabase> {
  const dataDir = await workerClusterDir();
  const schema = `test_${randomBytes(6).toString("hex")}`;
  return trackedDatabase(
    "pglite",
    dataDir,
    (service) => openPglite({ dataDir, service, schema }),
    // The schema stays until the directory goes: dropping it needs the cluster's superuser.
    async () => {},
  );
}

async function createPostgresDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `blossom_test_${randomBytes(6).toString("hex")}`;
  await ensurePostgresDatabase(serverUrl, name);
  const url = withDatabaseName(serverUrl, name);
  return trackedDatabase(
    "postgres",
    url,
    (service) => openPostgres({ url, service, poolMax: 5 }),
    () => dropPostgresDatabase(serverUrl, name),
  );
}

function trackedDatabase(
  adapter: StoreAdapter,
  location: string,
  open: (service: string) => Promise<Store<unknown>>,
  remove: () => Promise<void>,
): TestDatabase {
  const opened = new Set<Store<unknown>>();
  let destroyed: Promise<void> | undefined;
  return {
    adapter,
    location,
    async open<DB>(service = DEFAULT_SERVICE) {
      if (destroyed) throw new Error(`test database ${location} was destroyed`);
      const store = await open(service);
      opened.add(store);
      // The adapters do not depend on DB at run time; Store<DB> only types the queries.
      return store as Store<DB>;
    },
    destroy() {
      destroyed ??= (async () => {
        await Promise.all([...opened].map((store) => store.close()));
        await remove();
      })();
      return destroyed;
    },
  };
}

/** `store`, except that closing it also destroys `database`. */
function disposing<DB>(store: Store<DB>, database: TestDatabase): Store<DB> {
  let closed: Promise<void> | undefined;
  return {
    kind: store.kind,
    db: store.db,
    location: store.location,
    ping: () => store.ping(),
    close() {
      closed ??= store.close().then(() => database.destroy());
      return closed;
    },
  };
}
