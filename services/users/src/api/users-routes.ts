import { randomUUID } from "node:crypto";
import { requireUser } from "@blossom/auth";
import { recordAudit, type ServiceContext } from "@blossom/host";
import { type App, problemResponse, remainingBudgetMs } from "@blossom/runtime";
import { isUniqueViolation } from "@blossom/store";
import type { FastifyRequest } from "fastify";
import type { HashQueue } from "../auth/hash-queue.js";
import type { SignUpLimits } from "../auth/login-limits.js";
import { normalizeEmail } from "../domain/email.js";
import { hashPassword } from "../domain/password.js";
import { UserRegistered } from "../events/contracts.js";
import type { UsersTables } from "../store/tables.js";
import { findUserById, insertUser, updateUserName } from "../store/users-store.js";
import { emailTaken, hashingOverloaded, tooManyAttempts, unknownAccount } from "./problems.js";
import { RegisterUserBody, UpdateMeBody, UserView } from "./schemas.js";
import { toUserView } from "./user-view.js";

export interface UsersRoutesOptions {
  signUps: SignUpLimits;
  /** The client's address (the connection's peer, or from a trusted proxy's X-Forwarded-For). */
  clientAddress: (request: FastifyRequest) => string;
  /** The scrypt cost of new password hashes (`USERS_PASSWORD_HASH_COST`). */
  passwordHashCost: number;
  /** Admission to password hashing, shared with logins. */
  hashing: HashQueue;
  /** How long sign-up may take (published as the route's `budgetMs`: the gateway waits as long). */
  budgetMs: number;
}

/** Sign-up, and the signed-in user's own account. */
export function usersRoutes(
  app: App,
  context: ServiceContext<UsersTables>,
  { signUps, clientAddress, passwordHashCost, hashing, budgetMs }: UsersRoutesOptions,
): void {
  app.post(
    "/api/users",
    {
      config: { auth: "public", budgetMs },
      schema: {
        body: RegisterUserBody,
        response: { 201: UserView, 409: problemResponse("The email has an account (`email-taken`)") },
      },
    },
    async (request, reply) => {
      // First of all, before the sign-up is counted: a hash it cannot afford now is 503, nothing done.
      const permit = hashing.admit(remainingBudgetMs());
      if (!permit) throw hashingOverloaded(hashing.retryAfterSeconds());
      let passwordHash: string;
      try {
        // Before the password is hashed (32 MiB of scrypt each): a burst of anonymous sign-ups
        // from one address must not starve logins. A sign-up that ends in 409 still counts.
        const gate = await signUps.admit(clientAddress(request));
        if (!gate.admitted) {
          request.log.info({ retry_after_s: gate.retryAfterSeconds }, "sign-up refused: per-address limit");
          throw tooManyAttempts("sign-up", gate.retryAfterSeconds);
        }
        // The account is written only once its hash exists: nothing is left behind a failure here.
        passwordHash = await permit.run(() => hashPassword(request.body.password, passwordHashCost));
      } finally {
        permit.release();
      }
      const id = randomUUID();
      const email = normalizeEmail(request.body.email);
      const { name } = request.body;
      try {
        await context.transaction(async (trx) => {
          await insertUser(trx, { id, email, name, passwordHash, role: "customer" });
          await context.outbox.add(trx, UserRegistered, id, { userId: id, email, name });
          await recordAudit(trx, { actor: id, action: "user.signed-up", target: id, details: { email } });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw emailTaken(email);
        throw error;
      }
      return reply.code(201).send({ id, email, name, role: "customer" as const });
    },
  );

  app.get(
    "/api/users/me",
    { config: { auth: "user" }, schema: { response: { 200: UserView } } },
    async (request) => {
      const { userId } = requireUser(request);
      const user = await findUserById(context.db, userId);
      if (!user) throw unknownAccount();
      return toUserView(user);
    },
  );

  app.patch(
    "/api/users/me",
    { config: { auth: "user" }, schema: { body: UpdateMeBody, response: { 200: UserView } } },
    async (request) => {
      const { userId } = requireUser(request);
      const user = await updateUserName(context.db, userId, request.body.name);
      if (!user) throw unknownAccount();
      return toUserView(user);
    },
  );
}
