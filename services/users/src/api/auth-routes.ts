import { randomBytes } from "node:crypto";
import { recordAudit } from "@blossom/host";
import { type App, noContentResponse } from "@blossom/runtime";
import type { FastifyRequest } from "fastify";
import type { LoginLimits } from "../auth/login-limits.js";
import type { Sessions } from "../auth/sessions.js";
import { normalizeEmail } from "../domain/email.js";
import { hashPassword, verifyPassword } from "../domain/password.js";
import { findUserByEmail, type UsersDb } from "../store/users-store.js";
import { invalidCredentials, invalidRefreshToken, tooManyAttempts } from "./problems.js";
import { ignoreBearerToken } from "./public-routes.js";
import { LoginBody, RefreshTokenBody, TokenPairView } from "./schemas.js";

export interface AuthRoutesOptions {
  db: UsersDb;
  sessions: Sessions;
  limits: LoginLimits;
  /** The client's address (the connection's peer, or from a trusted proxy's X-Forwarded-For). */
  clientAddress: (request: FastifyRequest) => string;
  /** The scrypt cost of new password hashes (`USERS_PASSWORD_HASH_COST`): the dummy hash's too. */
  passwordHashCost: number;
}

/**
 * Sign-in, token refresh and sign-out: the body is the credential, and a bearer token sent along
 * is ignored. Token answers are never cached (RFC 6749 §5.1).
 */
export function authRoutes(
  app: App,
  { db, sessions, limits, clientAddress, passwordHashCost }: AuthRoutesOptions,
): void {
  // An unknown email is checked against this hash, so that it costs the same scrypt as a wrong
  // password: the answer's timing does not tell which emails have an account.
  const dummyHash = hashPassword(randomBytes(32).toString("base64url"), passwordHashCost);
  dummyHash.catch(() => {});

  app.post(
    "/api/auth/login",
    {
      config: { auth: "public" },
      onRequest: ignoreBearerToken,
      schema: { body: LoginBody, response: { 200: TokenPairView } },
    },
    async (request, reply) => {
      const email = normalizeEmail(request.body.email);
      const ip = clientAddress(request);
      // Before the account is looked up or any password checked: a locked pair (or an address
      // that spent its failures) gets 429 whatever the password, at no scrypt cost.
      const gate = await limits.admit(email, ip);
      if (!gate.admitted) {
        await recordAudit(db, {
          actor: "anonymous",
          action: "auth.login-refused",
          target: email,
          details: { ip, limit: gate.limit, retryAfterSeconds: gate.retryAfterSeconds },
        });
        throw tooManyAttempts("login", gate.retryAfterSeconds);
      }
      let settled = false;
      try {
        const user = await findUserByEmail(db, email);
        const matches = await verifyPassword(request.body.password, user?.password_hash ?? (await dummyHash));
        if (!user || !matches) {
          settled = true;
          const locks = await limits.failed(gate.ticket);
          // The attempted email is kept for admins (brute force shows up here), never the password.
          await recordAudit(db, {
            actor: user?.id ?? "anonymous",
            action: "auth.login-failed",
            target: email,
            details: { ip },
          });
          for (const lock of locks)
            await recordAudit(db, {
              actor: user?.id ?? "anonymous",
              action: "auth.login-locked",
              target: email,
              details: { ip, ...lock },
            });
          throw invalidCredentials();
        }
        settled = true;
        await limits.succeeded(gate.ticket);
        await recordAudit(db, {
          actor: user.id,
          action: "auth.login-succeeded",
          target: user.id,
          details: { ip },
        });
        reply.header("cache-control", "no-store");
        return await sessions.start({ id: user.id, email: user.email, role: user.role });
      } catch (error) {
        // An error of ours before the password was judged (the database, say): not a failure.
        if (!settled) await limits.abandoned(gate.ticket).catch(() => {});
        throw error;
      }
    },
  );

  app.post(
    "/api/auth/refresh",
    {
      config: { auth: "public" },
      onRequest: ignoreBearerToken,
      schema: { body: RefreshTokenBody, response: { 200: TokenPairView } },
    },
    async (request, reply) => {
      const outcome = await sessions.refresh(request.body.refreshToken);
      if ("refused" in outcome) throw invalidRefreshToken();
      reply.header("cache-control", "no-store");
      return outcome;
    },
  );

  app.post(
    "/api/auth/logout",
    {
      config: { auth: "public" },
      onRequest: ignoreBearerToken,
      schema: {
        body: RefreshTokenBody,
        response: { 204: noContentResponse("Signed out: the refresh token no longer works") },
      },
    },
    async (request, reply) => {
      await sessions.end(request.body.refreshToken);
      return reply.code(204).send();
    },
  );
}
