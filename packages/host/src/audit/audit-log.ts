import { requireAdmin } from "@blossom/auth";
import { type AnyServiceDb, asMessagingDb } from "@blossom/bus";
import { type App, currentContext, HttpProblem } from "@blossom/runtime";
import type { Migration } from "@blossom/store";
import { type Kysely, sql } from "kysely";
import { AuditPage, AuditQuery } from "./audit-schemas.js";

/**
 * The audit log every service keeps of what matters for security and money (sign-ups, logins,
 * admin catalog changes, cancellations, refunds): who (actor), did what (action), to what
 * (target), when, under which request id. Written in the same transaction as the change it
 * records, read by admins at `GET /api/<service>/audit`.
 */
interface AuditTables {
  audit_log: {
    id: string;
    at: Date;
    actor: string;
    action: string;
    target: string;
    request_id: string | null;
    details: unknown;
  };
}

/** Add to a service's migrations under its next number, e.g. `"0004_audit_log": auditLogMigration`. */
export const auditLogMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable("audit_log")
      .addColumn("id", "bigserial", (column) => column.primaryKey())
      .addColumn("at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
      .addColumn("actor", "text", (column) => column.notNull())
      .addColumn("action", "text", (column) => column.notNull())
      .addColumn("target", "text", (column) => column.notNull())
      .addColumn("request_id", "text")
      .addColumn("details", "jsonb")
      .execute();
  },
  async down(db) {
    await db.schema.dropTable("audit_log").execute();
  },
};

export interface AuditEntry {
  /** A user id, or `anonymous`, or `system:<what>` for work no person asked for. */
  actor: string;
  /** Dotted verb, e.g. `auth.login-failed`, `product.created`, `order.cancelled`. */
  action: string;
  target: string;
  details?: Record<string, unknown>;
}

function auditDb(db: AnyServiceDb): Kysely<AuditTables> {
  return asMessagingDb(db) as unknown as Kysely<AuditTables>;
}

/** Records one entry, in the caller's transaction when given one; the request id comes from the current context. */
export async function recordAudit(db: AnyServiceDb, entry: AuditEntry): Promise<void> {
  await auditDb(db)
    .insertInto("audit_log")
    .values({
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      request_id: currentContext()?.requestId ?? null,
      details: entry.details === undefined ? null : JSON.stringify(entry.details),
    } as never)
    .execute();
}

/** `GET /api/<service>/audit?limit=&before=&action=`: newest first, admins only. */
export function registerAuditRoute(app: App, service: string, db: AnyServiceDb): void {
  app.get(
    `/api/${service}/audit`,
    { config: { auth: "admin" }, schema: { querystring: AuditQuery, response: { 200: AuditPage } } },
    async (request) => {
      requireAdmin(request);
      const { limit, before, action } = request.query;
      let query = auditDb(db)
        .selectFrom("audit_log")
        .selectAll()
        .orderBy("id", "desc")
        .limit(limit + 1);
      if (before) query = query.where("id", "<", before);
      if (action) query = query.where("action", "=", action);
      const rows = await query.execute().catch((error: unknown) => {
        throw error instanceof Error && /audit_log/.test(error.message)
          ? HttpProblem.of("unavailable", "the audit log is not migrated yet")
          : error;
      });
      const page = rows.slice(0, limit);
      return {
        items: page.map((row) => ({
          id: String(row.id),
          at: new Date(row.at).toISOString(),
          actor: row.actor,
          action: row.action,
          target: row.target,
          requestId: row.request_id,
          details: typeof row.details === "string" ? JSON.parse(row.details) : (row.details ?? null),
        })),
        nextCursor: rows.length > limit ? String(page.at(-1)?.id ?? "") : null,
      };
    },
  );
}
