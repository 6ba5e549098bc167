import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { messages, protocol, types } from "@electric-sql/pglite";
import type { QueryResult } from "kysely";

import { isDataStatement, isSchemaChange, isWorthPreparing } from "../statement-kinds.js";
import { PG_OID, parseDate, parseInt8 } from "../type-parsers.js";
import { DataDirLockedError, lockDataDir } from "./data-dir-lock.js";
import { type BackendMessage, PgliteEngine } from "./pglite-engine.js";
import { isInitialised, seedFromTemplate } from "./pglite-template.js";
import { bindAndRun, parseMessage, plainStatement } from "./statement-messages.js";

/**
 * How long borrowers may follow one another without the event loop reading its sockets (see
 * `borrow`): a few statements' worth, so a request waits about this long at most to be seen.
 *
 * Why 2 ms and not the 10 it was: libuv accepts one new connection per turn of the event loop
 * (libuv/libuv#3696), so the turns per second are the most connections per second the gateway of
 * `npm start` can take. Under checkouts at twice the rate the platform sustains, with 10 ms
 * slices the loop turned 8-16 times a second, each turn's work feeding the next one's; clients
 * that opened a connection (every one whose others were held by `Prefer: wait`) waited 0.7-3 s
 * to be accepted, and the p99 place -> confirmed was 6-8x saturation's. With 2 ms it turned
 * 170-200 times a second, the POSTs were answered within 0.3 s (p99) and the p99 was 1.4-1.8x
 * saturation's (`npm run bench -- overload`, alternating runs; docs/benchmarks.md). Checkouts
 * per second at saturation did not drop.
 */
export const HANDOVER_SLICE_MS = 2;

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
 * switches role and search path only when the borrower changes. Statements go to PostgreSQL as
 * raw protocol messages (pglite-engine.ts), serialised here; results are built here from the
 * messages PGlite parsed.
 */
export class PgliteCluster {
  readonly #engine: PgliteEngine;
  readonly #location: string;
  readonly #unlock: (() => Promise<void>) | undefined;
  readonly #onClosed: (() => void) | undefined;
  readonly #services = new Set<string>();
  readonly #waiting: Array<() => void> = [];
  #lent = false;
  /** When the current chain of borrowers began to run without a turn of the event loop. */
  #sliceStartedAt = 0;
  /** Whose role and search path the session has (or will have once #pendingSwitch is sent). */
  #sessionOwner: string | undefined;
  /** The role and search path switch to send ahead of the next statement (see borrow). */
  #pendingSwitch: readonly string[] | undefined;
  /**
   * The switch went in the same group as a BEGIN, and so belongs to that transaction: PostgreSQL
   * turns the group's implicit transaction into the explicit one, and a ROLLBACK undoes a plain
   * `SET` too. Until the transaction commits, the session's role is only as sure as its outcome.
   */
  #switchInTransaction = false;
  /**
   * Named prepared statements by session owner, then SQL text (see #statementName). Two maps and
   * not one keyed by owner + text: that key was a new string to build and hash per statement.
   */
  readonly #prepared = new Map<string | undefined, Map<string, string>>();
  /** Statements in #prepared, all owners together (see MAX_PREPARED). */
  #preparedSize = 0;
  #preparedCount = 0;
  #closed: Promise<void> | undefined;

  private constructor(
    engine: PgliteEngine,
    location: string,
    unlock: (() => Promise<void>) | undefined,
    onClosed: (() => void) | undefined,
  ) {
    this.#engine = engine;
    this.#location = location;
    this.#unlock = unlock;
    this.#onClosed = onClosed;
  }

  /**
   * Opens (and on first use initialises) the cluster at `dataDir`, or a private one in a
   * temporary directory, deleted when it closes, when undefined (a copy of the cached cluster is
   * far quicker than an in-memory initdb). Fails with DataDirLockedError when another live
   * process holds the directory. `onClosed` is called once it is closed and its directory released.
   */
  static async open(dataDir: string | undefined, onClosed?: () => void): Promise<PgliteCluster> {
    let unlock: (() => Promise<void>) | undefined;
    const directory = dataDir ?? (await mkdtemp(join(tmpdir(), "blossom-pglite-temporary-")));
    const release = async () => {
      await unlock?.();
      if (dataDir === undefined) await rm(directory, { recursive: true, force: true });
    };
    try {
      if (dataDir !== undefined) {
        await mkdir(dataDir, { recursive: true });
        unlock = await lockDataDir(dataDir);
      }
      // A new cluster starts as a copy of an initialised one instead of running initdb (see pglite-template.ts).
      if (!isInitialised(directory)) await seedFromTemplate(directory);
      const engine = await PgliteEngine.start({
        dataDir: directory,
        // PostgreSQL's default 128 MB of shared buffers is zeroed at start-up and stays resident:
        // 32 MB (a development data set fits many times over) opens in 0.55 s instead of 0.9 s
        // and holds 170 MB of memory instead of 280 (measured on this 2-core machine).
        startParams: ["-c", "shared_buffers=32MB"],
      });
      return new PgliteCluster(engine, directory, release, onClosed);
    } catch (err) {
      await release();
      throw err;
    }
  }

  /** Whether close() has begun: nothing can attach any more. */
  get isClosing(): boolean {
    return this.#closed !== undefined;
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
      throw new DataDirLockedError(`${this.#location} schema ${service}`, "is already open in this process");
    }
    this.#services.add(service);
    try {
      const release = await this.borrow(undefined);
      try {
        await this.#simpleQuery(provisionStatements(service));
      } finally {
        release();
      }
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

  /** Waits for the connection, switches it to `service`, and returns the function that gives it back. */
  async borrow(service: string | undefined): Promise<() => void> {
    if (this.#lent) await new Promise<void>((resume) => this.#waiting.push(resume));
    // Taken while free: this borrower's chain of work is a new slice (see release).
    else this.#sliceStartedAt = performance.now();
    this.#lent = true;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      // Handed to the next borrower (nobody can cut in: it stays lent). PGlite answers without
      // real I/O, so a queue of borrowers handed over at once runs as one chain of microtasks for
      // as long as the queue lasts, and the event loop reads no socket meanwhile: under load, new
      // HTTP requests (a health probe, a checkout the admission would refuse) waited seconds
      // before anything saw them. So once a chain has run for a slice, the next borrower gets
      // the connection on the loop's next turn, after the sockets were read. Not on every
      // handover: the connection would sit lent and idle during each turn, and it is the
      // platform's bottleneck.
      const next = this.#waiting.shift();
      if (!next) this.#lent = false;
      else if (performance.now() - this.#sliceStartedAt < HANDOVER_SLICE_MS) next();
      else
        setImmediate(() => {
          this.#sliceStartedAt = performance.now();
          next();
        });
    };
    // The switch travels with the borrower's first statement (one trip fewer per borrower change,
    // about ten per checkout), in the same protocol group: if it failed, nothing after it would run.
    if (this.#sessionOwner !== service) {
      this.#pendingSwitch =
        service === undefined ? ["RESET ROLE", "RESET search_path"] : switchStatements(service);
      this.#sessionOwner = service;
    }
    return release;
  }

  /**
   * Runs one statement (after `before`, if given); only for the current borrower (see borrow).
   *
   * One trip into PostgreSQL (parse, bind, describe, execute and sync in one protocol message),
   * where `PGlite.query` makes six (it asks for the parameters' types first, then sends each
   * message alone). Parameters are encoded as text of unspecified type by `pg`'s own
   * `prepareValue`, exactly as the PostgreSQL adapter sends them, so a query behaves the same on both.
   */
  async execute<R>(text: string, parameters: readonly unknown[], before?: string): Promise<QueryResult<R>> {
    const prepared = this.#statementName(text);
    const switching = this.#pendingSwitch?.some((statement) => ROLE_SWITCH.test(statement)) ?? false;
    const ahead = [...(this.#pendingSwitch ?? []), ...(before === undefined ? [] : [before])];
    const ending = this.#switchInTransaction && TRANSACTION_END.test(text);
    const request = Buffer.concat([
      // Statements without parameters to run first in the same group: the role switch and a
      // deferred BEGIN. An error in one skips everything up to the Sync, this statement included.
      ...ahead.map(plainStatement),
      ...(prepared.parse ? [parseMessage(prepared.name, text)] : []),
      ...bindAndRun(prepared.name, parameters),
    ]);
    this.#pendingSwitch = undefined;
    let replies: BackendMessage[];
    try {
      replies = await this.#roundTrip(request);
    } catch (err) {
      // Whether the switch or the Parse happened is unknown: switch again next time, parse again.
      if (prepared.parse) this.#forget(text, prepared.name);
      if (ahead.length > 0 || ending) this.#sessionOwner = UNKNOWN_OWNER;
      if (ending) this.#switchInTransaction = false;
      throw err;
    }
    if (switching && before !== undefined) this.#switchInTransaction = true;
    if (ending) {
      // Committed, the switch stays. Rolled back (asked for, or a COMMIT of a failed transaction,
      // which PostgreSQL answers ROLLBACK), the session is back to the previous owner's role and
      // search path: the next borrower (this service too) switches again.
      const committed = replies.some(
        (message) => message instanceof messages.CommandCompleteMessage && message.text === "COMMIT",
      );
      if (!committed) this.#sessionOwner = UNKNOWN_OWNER;
      this.#switchInTransaction = false;
    }
    return lastResult<R>(replies);
  }

  /**
   * The prepared statement to run `text` as. Data statements are parsed and planned once per
   * service (a third to half of a simple statement's time in PGlite, measured: 84 against 32 µs
   * for a primary-key read) and reused; anything else runs unnamed, and a schema change drops
   * every prepared statement first, since a plan prepared before it may no longer fit.
   */
  #statementName(text: string): { name: string; parse: boolean } {
    if (!isDataStatement(text)) {
      if (isSchemaChange(text) && this.#preparedSize > 0) {
        this.#prepared.clear();
        this.#preparedSize = 0;
        this.#pendingSwitch = [...(this.#pendingSwitch ?? []), "DEALLOCATE ALL"];
      }
      return { name: "", parse: true };
    }
    let owned = this.#prepared.get(this.#sessionOwner);
    const known = owned?.get(text);
    if (known !== undefined) return { name: known, parse: false };
    // A statement whose text varies with its data would be a new prepared plan per variant, each
    // kept in PostgreSQL's memory, which the WebAssembly heap never gives back: those run
    // unnamed. Past the cap, so does any new text.
    if (!isWorthPreparing(text) || this.#preparedSize >= MAX_PREPARED) return { name: "", parse: true };
    const name = `blossom_${++this.#preparedCount}`;
    if (owned === undefined) {
      owned = new Map();
      this.#prepared.set(this.#sessionOwner, owned);
    }
    owned.set(text, name);
    this.#preparedSize++;
    return { name, parse: true };
  }

  /** Forgets a statement whose Parse may have failed; a leftover on the server is never reused. */
  #forget(text: string, name: string): void {
    if (name === "") return;
    const owned = this.#prepared.get(this.#sessionOwner);
    if (owned?.get(text) === name) {
      owned.delete(text);
      this.#preparedSize--;
    }
  }

  /** Runs statements through the simple query protocol (several allowed, no parameters). */
  async #simpleQuery(text: string): Promise<void> {
    // A pending switch goes first, in the same implicit transaction: if it fails, nothing runs.
    const switchFirst = this.#pendingSwitch;
    this.#pendingSwitch = undefined;
    try {
      await this.#roundTrip(protocol.serialize.query([...(switchFirst ?? []), text].join("; ")));
    } catch (err) {
      if (switchFirst) this.#sessionOwner = UNKNOWN_OWNER;
      throw err;
    }
  }

  /** Sends a request, parses the reply; rejects with PostgreSQL's error (SQLSTATE in `code`). */
  async #roundTrip(request: Uint8Array): Promise<BackendMessage[]> {
    const replies = await this.#engine.exec(request);
    for (const message of replies) {
      if (message instanceof messages.DatabaseError) throw message;
    }
    return replies;
  }

  /** Closes PGlite and releases the directory; idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.#engine.close();
      } finally {
        await this.#unlock?.();
        this.#onClosed?.();
      }
    })();
    return this.#closed;
  }
}

/** Array types parsed to JavaScript arrays, with their element types (from `pg_type`). */
const ARRAY_ELEMENTS: Record<number, number> = {
  199: 114, // json[]
  1000: 16, // bool[]
  1001: 17, // bytea[]
  1005: 21, // int2[]
  1007: 23, // int4[]
  1009: 25, // text[]
  1014: 1042, // bpchar[]
  1015: 1043, // varchar[]
  1016: 20, // int8[]
  1021: 700, // float4[]
  1022: 701, // float8[]
  1028: 26, // oid[]
  1115: 1114, // timestamp[]
  1182: 1082, // date[]
  1183: 1083, // time[]
  1185: 1184, // timestamptz[]
  1187: 1186, // interval[]
  1231: 1700, // numeric[]
  2951: 2950, // uuid[]
  3807: 3802, // jsonb[]
};

/**
 * Result parsers: PGlite's for the base types (PGlite's own fallback too), ours for int8 and
 * date, and arrays of the types above; any other type comes back as its text, as from PGlite.
 * A small table on purpose: PGlite copies it for every result (`{...parsers}`), and its own
 * table (~300 array parsers, one per catalog type) made that copy 80 µs a query.
 */
const RESULT_PARSERS: Record<number, (text: string, typeId?: number) => unknown> = (() => {
  const table: Record<number, (text: string, typeId?: number) => unknown> = {};
  for (const [oid, parser] of Object.entries(types.parsers)) {
    if (/^\d+$/.test(oid)) table[Number(oid)] = parser;
  }
  table[PG_OID.int8] = parseInt8;
  table[PG_OID.date] = parseDate;
  for (const [array, element] of Object.entries(ARRAY_ELEMENTS)) {
    const parseElement = table[element] ?? ((text: string) => text);
    table[Number(array)] = (text) => types.arrayParser(text, parseElement, Number(array));
  }
  return table;
})();

/** A column of a result: its name and how its text becomes a value (undefined: kept as text). */
interface Column {
  name: string;
  typeId: number;
  parse: ((text: string, typeId?: number) => unknown) | undefined;
}

/**
 * The result of the last statement among `replies` (those sent ahead of it, a role switch or a
 * deferred BEGIN, return no rows): what `parse.parseResults(replies, RESULT_PARSERS).at(-1)`
 * gives, affected rows summed over the statements as there, with the same parsers. Written out
 * because that function builds a result for every statement and copies the parser table for
 * every call: it was a twentieth of the process's CPU under checkout load.
 */
function lastResult<R>(replies: readonly BackendMessage[]): QueryResult<R> {
  let columns: Column[] = [];
  let rows: Record<string, unknown>[] = [];
  let completedRows: Record<string, unknown>[] = [];
  let affectedRows = 0;
  for (const message of replies) {
    if (message instanceof messages.RowDescriptionMessage) {
      columns = message.fields.map(({ name, dataTypeID }) => ({
        name,
        typeId: dataTypeID,
        parse: RESULT_PARSERS[dataTypeID] ?? types.parsers[dataTypeID],
      }));
    } else if (message instanceof messages.DataRowMessage) {
      const row: Record<string, unknown> = {};
      const { fields } = message;
      for (let index = 0; index < fields.length; index++) {
        const column = columns[index];
        if (column === undefined) continue;
        const text = fields[index];
        row[column.name] =
          text === null || text === undefined
            ? null
            : column.parse
              ? column.parse(text, column.typeId)
              : text;
      }
      rows.push(row);
    } else if (message instanceof messages.CommandCompleteMessage) {
      affectedRows += affectedRowsOf(message.text);
      completedRows = rows;
      rows = [];
      columns = [];
    }
  }
  const result = completedRows as R[];
  return affectedRows ? { rows: result, numAffectedRows: BigInt(affectedRows) } : { rows: result };
}

/** The rows a command tag says were affected ("INSERT 0 3", "UPDATE 2"), as PGlite reads it. */
function affectedRowsOf(tag: string): number {
  // The count is the tag's last word for each of these ("INSERT 0 3": the 0 is an old OID field).
  // Read without splitting: a tag per statement, and the split's array was garbage each time.
  const command = tag.slice(0, tag.indexOf(" "));
  if (!COUNTED_COMMANDS.has(command)) return 0;
  return Number.parseInt(tag.slice(tag.lastIndexOf(" ") + 1), 10) || 0;
}

/** The commands whose tag says how many rows they affected (as PGlite reads them). */
const COUNTED_COMMANDS = new Set(["INSERT", "UPDATE", "DELETE", "COPY", "MERGE"]);

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

function switchStatements(service: string): string[] {
  const name = identifier(service);
  return [`SET ROLE ${name}`, `SET search_path TO ${name}`];
}

/** A role switch (as opposed to `DEALLOCATE ALL`, which no transaction undoes). */
const ROLE_SWITCH = /^(SET|RESET) ROLE\b/;

/** The statements that end a transaction (not `ROLLBACK TO SAVEPOINT`, which leaves it open). */
const TRANSACTION_END = /^\s*(?:commit|end|rollback|abort)\s*(?:transaction|work)?\s*;?\s*$/i;

/** A session owner no service can have: the next borrower switches whoever it is. */
const UNKNOWN_OWNER = "\u0000unknown";

/** Prepared statements kept at most (a service has a few dozen distinct statements). */
const MAX_PREPARED = 500;
