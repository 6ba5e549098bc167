import { requireAdmin } from "@blossom/auth";
import type { AnyServiceDb, DeadLetter, EventBus } from "@blossom/bus";
import { type App, HttpProblem, problemResponse, redactSecrets } from "@blossom/runtime";
import type { Static } from "@sinclair/typebox";
import type { Kysely } from "kysely";
import { recordAudit } from "../audit/audit-log.js";
import {
  DeadLetterDetail,
  DeadLetterList,
  DeadLetterListQuery,
  DeadLetterOutcome,
  DeadLetterParams,
} from "./dead-letter-schemas.js";

type Action = Static<typeof DeadLetterOutcome>["action"];
const AUDIT_ACTIONS: Readonly<Record<Action, string>> = {
  replayed: "dead-letter.replayed",
  discarded: "dead-letter.discarded",
};

export interface DeadLetterRoutesOptions {
  /** The service: its consumer name on the bus and its route prefix `/api/<service>`. */
  service: string;
  bus: EventBus;
  db: AnyServiceDb;
  /** Whether the service keeps an audit log: each replay and discard is then recorded there. */
  audited: boolean;
}

function summary(letter: DeadLetter): Static<typeof DeadLetterList>["items"][number] {
  return {
    id: letter.id,
    consumer: letter.consumer,
    eventId: letter.event.id,
    eventType: letter.event.type,
    subject: letter.event.subject,
    attempts: letter.attempts,
    error: letter.error,
    at: letter.at,
    correlationId: letter.event.correlationId ?? null,
    traceparent: letter.event.traceparent ?? null,
  };
}

const auditTarget = (id: string) => `dead-letter:${id}`;

/** Rolls the audit entry back when the dead letter was gone by the time the bus was asked. */
const NOT_DONE = Symbol("dead letter already gone");

/**
 * The service's dead letters, for admins (`/api/<service>/dead-letters`): list, inspect one,
 * replay it (the bus delivers the event again to this service's consumer only; the inbox still
 * lets it take effect at most once) or discard it.
 *
 * Each replay and discard is audited in the service's audit log, in the same transaction: if the
 * bus refuses, nothing is recorded. Both are naturally idempotent (no `Idempotency-Key` needed):
 * the dead letter leaves the bus with the first call, and a repeated call finds the audit entry
 * and answers the same outcome with `repeated: true` (409 if it asks for the other action).
 */
export function registerDeadLetterRoutes(app: App, options: DeadLetterRoutesOptions): void {
  const { service, bus, db, audited } = options;
  const prefix = `/api/${service}/dead-letters`;

  app.get(
    prefix,
    {
      config: { auth: "admin" },
      schema: { querystring: DeadLetterListQuery, response: { 200: DeadLetterList } },
    },
    async (request) => {
      requireAdmin(request);
      return { items: (await bus.deadLetters(service, request.query.limit)).map(summary) };
    },
  );

  app.get(
    `${prefix}/:id`,
    {
      config: { auth: "admin" },
      schema: { params: DeadLetterParams, response: { 200: DeadLetterDetail } },
    },
    async (request) => {
      requireAdmin(request);
      const letter = await bus.deadLetter(service, request.params.id);
      if (!letter)
        throw HttpProblem.of("notFound", "No such dead letter (it may have been replayed or discarded).");
      return { ...summary(letter), event: redactSecrets(letter.event) };
    },
  );

  for (const action of ["replayed", "discarded"] as const) {
    const verb = action === "replayed" ? "replay" : "discard";
    app.post(
      `${prefix}/:id/${verb}`,
      {
        config: { auth: "admin" },
        schema: {
          params: DeadLetterParams,
          response: {
            200: DeadLetterOutcome,
            409: problemResponse(
              `The dead letter was already ${action === "replayed" ? "discarded" : "replayed"}`,
            ),
          },
        },
      },
      async (request): Promise<Static<typeof DeadLetterOutcome>> => {
        const admin = requireAdmin(request);
        const { id } = request.params;
        const act = () =>
          action === "replayed" ? bus.replayDeadLetter(service, id) : bus.discardDeadLetter(service, id);
        const letter = await bus.deadLetter(service, id);
        if (letter) {
          const done = await db
            .transaction()
            .execute(async (trx) => {
              if (audited)
                await recordAudit(trx, {
                  actor: admin.userId,
                  action: AUDIT_ACTIONS[action],
                  target: auditTarget(id),
                  details: {
                    eventId: letter.event.id,
                    eventType: letter.event.type,
                    attempts: letter.attempts,
                    error: letter.error,
                  },
                });
              // Inside the transaction: if the bus refuses, or another call took the dead letter
              // first, the audit entry rolls back.
              if (!(await act())) throw NOT_DONE;
              return true;
            })
            .catch((error: unknown) => {
              if (error === NOT_DONE) return false;
              throw error;
            });
          if (done)
            return { id, action, repeated: false, eventId: letter.event.id, eventType: letter.event.type };
        }
        // Gone (just now, or long ago): what was done to it, if this service did it.
        const earlier = audited ? await earlierAction(db, id) : undefined;
        if (!earlier) throw HttpProblem.of("notFound", "No such dead letter.");
        if (earlier.action !== action)
          throw HttpProblem.of("conflict", `This dead letter was already ${earlier.action}.`);
        return { id, action, repeated: true, eventId: earlier.eventId, eventType: earlier.eventType };
      },
    );
  }
}

interface AuditRows {
  audit_log: { id: string; action: string; target: string; details: unknown };
}

async function earlierAction(
  db: AnyServiceDb,
  id: string,
): Promise<{ action: Action; eventId: string | null; eventType: string | null } | undefined> {
  const row = await (db as Kysely<AuditRows>)
    .selectFrom("audit_log")
    .select(["action", "details"])
    .where("target", "=", auditTarget(id))
    .where("action", "in", Object.values(AUDIT_ACTIONS))
    .orderBy("id", "asc")
    .limit(1)
    .executeTakeFirst();
  if (!row) return undefined;
  const details = (typeof row.details === "string" ? JSON.parse(row.details) : row.details) as {
    eventId?: string;
    eventType?: string;
  } | null;
  return {
    action: row.action === AUDIT_ACTIONS.replayed ? "replayed" : "discarded",
    eventId: details?.eventId ?? null,
    eventType: details?.eventType ?? null,
  };
}
