import { randomUUID } from "node:crypto";
import { requireUser } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem, problemResponse, withResponseHeaders } from "@blossom/runtime";
import type { Static } from "@sinclair/typebox";
import type { FastifyRequest } from "fastify";
import { detectBrand, last4, validateCard } from "../domain/card.js";
import { decodeCursor, encodeCursor } from "../domain/cursor.js";
import { isValidIdempotencyKey, requestFingerprint, sameFingerprint } from "../domain/idempotency.js";
import type { PaymentProvider } from "../domain/payment-provider.js";
import {
  claimPaymentMethodRequest,
  findPaymentMethod,
  findPaymentMethodRequest,
  insertPaymentMethod,
  listPaymentMethods,
} from "../store/methods-store.js";
import type { PaymentsDb } from "../store/payments-store.js";
import type { PaymentsTables } from "../store/tables.js";
import { cardProblem, idempotencyKeyReused, invalidIdempotencyKey } from "./problems.js";
import {
  CreatePaymentMethodBody,
  CreatePaymentMethodHeaders,
  ListQuery,
  PaymentMethodPage,
  PaymentMethodView,
  ReplayedHeader,
} from "./schemas.js";
import { toPaymentMethodView } from "./views.js";

export interface MethodsRoutesOptions {
  provider: PaymentProvider;
  /** HMAC key of idempotency fingerprints. */
  fingerprintKey: string;
  now?: () => Date;
}

/** Raised inside the transaction to roll it back when a concurrent request claimed the key first. */
class KeyTakenError extends Error {}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers["idempotency-key"];
  if (header === undefined) return undefined;
  if (typeof header !== "string" || !isValidIdempotencyKey(header)) throw invalidIdempotencyKey();
  return header;
}

/**
 * The method saved earlier under this key, or undefined when the key is new. Throws 422 when the
 * key was used for a different card.
 */
async function replayOf(
  db: PaymentsDb,
  userId: string,
  key: string,
  fingerprint: string,
): Promise<Static<typeof PaymentMethodView> | undefined> {
  const earlier = await findPaymentMethodRequest(db, userId, key);
  if (!earlier) return undefined;
  if (!sameFingerprint(earlier.fingerprint, fingerprint)) throw idempotencyKeyReused();
  const method = await findPaymentMethod(db, earlier.payment_method_id);
  if (!method) throw HttpProblem.of("internal", "The idempotency record names a missing payment method.");
  return toPaymentMethodView(method);
}

export function paymentMethodsRoutes(
  app: App,
  context: ServiceContext<PaymentsTables>,
  options: MethodsRoutesOptions,
): void {
  const now = options.now ?? (() => new Date());

  app.post(
    "/api/payments/methods",
    {
      config: { auth: "user" },
      schema: {
        body: CreatePaymentMethodBody,
        headers: CreatePaymentMethodHeaders,
        // A replay is 201 as well (with Idempotent-Replayed): there is no 200.
        response: {
          201: withResponseHeaders(PaymentMethodView, ReplayedHeader),
          422: problemResponse("The Idempotency-Key was used with another card (`idempotency-key-reused`)"),
        },
      },
    },
    async (request, reply) => {
      const { userId } = requireUser(request);
      const key = idempotencyKeyOf(request);
      const card = request.body;
      const errors = validateCard(card, now());
      if (errors.length > 0) throw cardProblem(errors);

      const fingerprint = key === undefined ? undefined : requestFingerprint(options.fingerprintKey, card);
      if (key !== undefined && fingerprint !== undefined) {
        const replay = await replayOf(context.db, userId, key, fingerprint);
        if (replay) return reply.code(201).header("idempotent-replayed", "true").send(replay);
      }

      // The number and cvc go to the provider and nowhere else; what is kept is its token.
      const { token } = await options.provider.tokenize({
        number: card.cardNumber,
        expMonth: card.expMonth,
        expYear: card.expYear,
        cvc: card.cvc,
      });
      const row = {
        id: randomUUID(),
        user_id: userId,
        provider: options.provider.name,
        token,
        brand: detectBrand(card.cardNumber),
        last4: last4(card.cardNumber),
        exp_month: card.expMonth,
        exp_year: card.expYear,
        created_at: now(),
      };
      try {
        await context.transaction(async (trx) => {
          await insertPaymentMethod(trx, row);
          if (key !== undefined && fingerprint !== undefined) {
            const claimed = await claimPaymentMethodRequest(trx, {
              userId,
              idempotencyKey: key,
              fingerprint,
              paymentMethodId: row.id,
            });
            if (!claimed) throw new KeyTakenError();
          }
        });
      } catch (error) {
        // A concurrent request with the same key won: answer what it saved (or 422 if it differs).
        if (!(error instanceof KeyTakenError) || key === undefined || fingerprint === undefined) throw error;
        const replay = await replayOf(context.db, userId, key, fingerprint);
        if (!replay) throw error;
        return reply.code(201).header("idempotent-replayed", "true").send(replay);
      }
      request.log.info({ payment_method_id: row.id, brand: row.brand }, "payment method saved");
      return reply.code(201).send(toPaymentMethodView(row));
    },
  );

  app.get(
    "/api/payments/methods",
    { config: { auth: "user" }, schema: { querystring: ListQuery, response: { 200: PaymentMethodPage } } },
    async (request) => {
      const { userId } = requireUser(request);
      const { limit, cursor } = request.query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && after === undefined)
        throw HttpProblem.of("validation", "cursor is not valid");
      const rows = await listPaymentMethods(context.db, userId, { after, limit });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toPaymentMethodView),
        nextCursor:
          rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
      };
    },
  );
}
