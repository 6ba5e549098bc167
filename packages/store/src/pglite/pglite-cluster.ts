import { mkdir } from "node:fs/promises";
import { PGlite, parse, protocol } from "@electric-sql/pglite";
import type { QueryResult } from "kysely";
import { prepareValue } from "pg/lib/utils.js";
import { PG_OID, parseDate, parseInt8 } from "../type-parsers.js";
import { DataDirLockedError, lockDataDir } from "./data-dir-lock.js";
import { isInitialised, seedFromTemplate } from "./pglite-template.js";

/**
 * One embedded PostgreSQL cluster that several services share, each in a schema of its own
 * owned by a role of its own.
 *
 * Why one cluster and not one per service: every PGlite instance carries its own WebAssembly
 * PostgreSQL (about 200 MB resident and 0.7-1.4 s to open, measured on this 2-core machine),
 * so five of them made `npm start` a 1.1 GB, 8-20 s affair. Sharing one cluster keeps each
 * service's data its own: a service's session runs as its role with its schema as the only
 * search path, and a role has no rights on another's schema, so a stray query fails with
 * "permission denied" exactly as it would across PostgreSQL databases.
 *
 * PGlite has one connection. The cluster lends it to one service at a time (a FIFO queue shared
 * by all services: a transaction is never interleaved with another service's statements) and
 * switches role and search path only when the borrower changes.
 */
export class PgliteCluster {
  readonly #pglite: PGlite;
  readonly #unlock: (() => Promise<void>) | undefined;
  readonly #onClosed: (() => void) | undefined;
  readonly #services = new Set<string>();
  readonly #waiting: Array<() => void> = [];
  #lent = false;
  /** Whose role and search path the session has now. */
  #sessionOwner: string | undefined;
  #closed: Promise<void> | undefined;
  /** Parses PostgreSQL's replies; one is enough, as statements run one at a time. */
  readonly #replies = new protocol.Parser();

  private constructor(
    pglite: PGlite,
    unlock: (() => Promise<void>) | undefined,
    onClosed: (() => void) | undefined,
  ) {
    this.#pglite = pglite;
    this.#unlock = unlock;
    this.#onClosed = onClosed;
  }

  /**
   * Opens (and on first use initialises) the cluster at `dataDir`, or in memory when undefined.
   * Fails with DataDirLockedError when another live process holds the directory. `onClosed` is
   * called once it is closed and its directory released.
   */
  static async open(dataDir: string | undefined, onClosed?: () => void): Promise<PgliteCluster> {
    let unlock: (() => Promise<void>) | undefined;
    try {
      if (dataDir !== undefined) {
        await mkdir(dataDir, { recursive: true });
        unlock = await lockDataDir(dataDir);
      }
      // A new cluster starts as a copy of an initialised one instead of running initdb (see pglite-template.ts).
      if (dataDir !== undefined && !isInitialised(dataDir)) await seedFromTemplate(dataDir);
      const pglite = await PGlite.create({
        dataDir,
        parsers: { [PG_OID.int8]: parseInt8, [PG_OID.date]: parseDate },
        // PostgreSQL's default 128 MB of shared buffers is zeroed at start-up and stays resident:
        // 32 MB (a development data set fits many times over) opens in 0.55 s instead of 0.9 s
        // and holds 170 MB of memory instead of 280 (measured on this 2-core machine).
        startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=32MB"],
      });
      trimParsers(pglite);
      return new PgliteCluster(pglite, unlock, onClosed);
    } catch (err) {
      await unlock?.();
      throw err;
    }
  }

  /** Whether close() has begun: nothing can attach any more. */
  get isClosing(): boolean {
    return this.#closed !== undefined;
  }

  /** The services attached now. */
  get services(): ReadonlySet<string> {
    return this.#services;
  }

  /**
   * Gives `service` its role and schema (created on first use) and reserves its name: the same
   * service cannot be attached twice at once (two instances would share one schema's outbox).
   */
  async attach(service: string): Promise<void> {
    if (this.#closed) throw new Error("PGlite cluster is closed");
    if (RESERVED_NAME.test(service))
      throw new TypeError(`${JSON.stringify(service)} is reserved by PostgreSQL`);
    if (this.#services.has(service)) {
      throw new DataDirLockedError(
        `${this.#pglite.dataDir ?? "memory"} schema ${service}`,
        "is already open in this process",
      );
    }
    this.#services.add(service);
    try {
      await this.withSession(undefined, (pglite) => pglite.exec(provisionStatements(service)));
    } catch (err) {
      this.#services.delete(service);
      throw err;
    }
  }

  /** Detaches `service`; the last one out closes the cluster and releases its directory. */
  async detach(service: string): Promise<void> {
    this.#services.delete(service);
    if (this.#services.size === 0) await this.close();
  }

  /**
   * Runs `work` with the connection, as `service` (its role and search path), or as the
   * superuser when undefined. Nobody else uses the connection until `work` settles.
   */
  async withSession<T>(service: string | undefined, work: (pglite: PGlite) => Promise<T>): Promise<T> {
    const release = await this.borrow(service);
    try {
      return await work(this.#pglite);
    } finally {
      release();
    }
  }

  /** Waits for the connection, switches it to `service`, and returns the function that gives it back. */
  async borrow(service: string | undefined): Promise<() => void> {
    if (this.#lent) await new Promise<void>((resume) => this.#waiting.push(resume));
    this.#lent = true;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      // Handed straight to the next borrower, so nobody can cut in between.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#lent = false;
    };
    try {
      if (this.#sessionOwner !== service) {
        await this.#pglite.exec(
          service === undefined ? "RESET ROLE; RESET search_path" : switchStatements(service),
        );
        this.#sessionOwner = service;
      }
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  /** Runs one statement; only for the current borrower (see borrow). */
  async execute<R>(text: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    const result = await this.#pglite.query<R>(text, [...parameters]);
    return result.affectedRows
      ? { rows: result.rows, numAffectedRows: BigInt(result.affectedRows) }
      : { rows: result.rows };
  }

  /** Closes PGlite and releases the directory; idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.#pglite.close();
      } finally {
        await this.#unlock?.();
        this.#onClosed?.();
      }
    })();
    return this.#closed;
  }
}

/** Base types whose values (alone or as array elements) are parsed to JavaScript values. */
const ELEMENT_OIDS = [16, 17, 20, 21, 23, 25, 26, 114, 700, 701, 1042, 1043, 1082, 1114, 1184, 3802];
/** Their arrays, and those of other common types (elements of those stay text, as they do alone). */
const ARRAY_OIDS = [
  199, 1000, 1001, 1005, 1007, 1009, 1014, 1015, 1016, 1021, 1022, 1028, 1115, 1182, 1183, 1185, 1187, 1231,
  2951, 3807,
];

/**
 * Keeps PGlite's result parsers to the types above. Why: PGlite copies its whole parser table
 * into a new object for every query result (`{...parsers}`), and after start-up that table holds
 * an array parser for each of the ~300 types of the catalog: the copy alone cost about 80 µs a
 * query, a third of a simple statement's time (measured on this machine). Other types come back
 * as text, exactly as PGlite's own fallback does for types it has no parser for.
 */
function trimParsers(pglite: PGlite): void {
  const full = pglite.parsers;
  const kept: typeof full = {};
  for (const oid of [...ELEMENT_OIDS, ...ARRAY_OIDS]) {
    const parse = full[oid];
    if (parse) kept[oid] = parse;
  }
  pglite.parsers = kept;
}

// Schemas and roles PostgreSQL owns: a service of that name would share or shadow them.
const RESERVED_NAME = /^(public|postgres|information_schema|pg_.*)$/i;

/** A service name as a quoted SQL identifier (names are already checked to be plain; quoted anyway). */
function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function literal(name: string): string {
  return `'${name.replaceAll("'", "''")}'`;
}

/**
 * The role and schema of a service, idempotently. The role cannot log in (nobody connects to
 * PGlite) and owns only its schema; PUBLIC keeps no CREATE on `public` (PostgreSQL 15+), so a
 * service can create objects in its own schema and nowhere else.
 */
function provisionStatements(service: string): string {
  const role = identifier(service);
  return `
    DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(service)}) THEN
        CREATE ROLE ${role} NOLOGIN;
      END IF;
    END $$;
    CREATE SCHEMA IF NOT EXISTS ${role} AUTHORIZATION ${role};
    REVOKE ALL ON SCHEMA ${role} FROM PUBLIC;
  `;
}

function switchStatements(service: string): string {
  const name = identifier(service);
  return `SET ROLE ${name}; SET search_path TO ${name}`;
}
