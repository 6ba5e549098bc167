import { randomBytes } from "node:crypto";
import { recordAudit } from "@blossom/host";
import { type App, HttpProblem, noContentResponse, remainingBudgetMs } from "@blossom/runtime";
import type { FastifyRequest } from "fastify";
import type { HashQueue } from "../auth/hash-queue.js";
import type { LoginLimits } from "../auth/login-limits.js";
import type { Sessions } from "../auth/sessions.js";
import { normalizeEmail } from "../domain/email.js";
import { hashPassword, verifyPassword } from "../domain/password.js";
import { findUserByEmail, type UsersDb } from "../store/users-store.js";
import { hashingOverloaded, invalidCredentials, invalidRefreshToken, tooManyAttempts } from "./problems.js";
import { ignoreBearerToken } from "./public-routes.js";
import {
  CLEARED_REFRESH_COOKIE,
  prefersCookie,
  refreshTokenFromCookie,
  setRefreshCookie,
} from "./refresh-cookie.js";
import { LoginBody, RefreshTokenBody, TokenPairView } from "./schemas.js";

export interface AuthRoutesOptions {
  db: UsersDb;
  sessions: Sessions;
  limits: LoginLimits;
  /** The client's address (the connection's peer, or from a trusted proxy's X-Forwarded-For). */
  clientAddress: (request: FastifyRequest) => string;
  /** The scrypt cost of new password hashes (`USERS_PASSWORD_HASH_COST`): the dummy hash's too. */
  passwordHashCost: number;
  /** A refresh token's lifetime: the refresh cookie's `Max-Age` (refresh-cookie.ts). */
  refreshTokenTtlSeconds: number;
  /** Admission to password hashing, shared with sign-ups. */
  hashing: HashQueue;
  /** How long a login may take (published as the route's `budgetMs`: the gateway waits as long). */
  budgetMs: number;
}

/** The refresh token a refresh or logout presents: the body's (JSON mode), else the cookie's. */
function presentedRefreshToken(
  body: { refreshToken?: string } | undefined,
  request: FastifyRequest,
): { token: string; fromCookie: boolean } {
  const inBody = body?.refreshToken;
  if (inBody !== undefined) return { token: inBody, fromCookie: false };
  const inCookie = refreshTokenFromCookie(request);
  if (inCookie !== undefined) return { token: inCookie, fromCookie: true };
  throw HttpProblem.of(
    "validation",
    "body must have required property 'refreshToken' (or send the refresh cookie)",
    {
      errors: [
        {
          in: "body",
          pointer: "/",
          message: "must have required property 'refreshToken'",
          missing: "refreshToken",
        },
      ],
    },
  );
}

/**
 * Sign-in, token refresh and sign-out: the body is the credential, and a bearer token sent along
 * is ignored. Token answers are never cached (RFC 6749 §5.1).
 */
export function authRoutes(
  app: App,
  {
    db,
    sessions,
    limits,
    clientAddress,
    passwordHashCost,
    refreshTokenTtlSeconds,
    hashing,
    budgetMs,
  }: AuthRoutesOptions,
): void {
  // An unknown email is checked against this hash, so that it costs the same scrypt as a wrong
  // password: the answer's timing does not tell which emails have an account.
  const dummyHash = hashPassword(randomBytes(32).toString("base64url"), passwordHashCost);
  dummyHash.catch(() => {});

  app.post(
    "/api/auth/login",
    {
      config: { auth: "public", budgetMs },
      onRequest: ignoreBearerToken,
      schema: { body: LoginBody, response: { 200: TokenPairView } },
    },
    async (request, reply) => {
      // First of all, before the attempt is counted: a hash it cannot afford now is 503, and the
      // failure counters never see a shed attempt.
      const permit = hashing.admit(remainingBudgetMs());
      if (!permit) throw hashingOverloaded(hashing.retryAfterSeconds());
      try {
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
          const stored = user?.password_hash ?? (await dummyHash);
          const matches = await permit.run(() => verifyPassword(request.body.password, stored));
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
          const pair = await sessions.start({ id: user.id, email: user.email, role: user.role });
          if (!prefersCookie(request)) return pair;
          const { refreshToken, ...rest } = pair;
          setRefreshCookie(reply, refreshToken, refreshTokenTtlSeconds);
          return rest;
        } catch (error) {
          // An error of ours before the password was judged (the database, say): not a failure.
          if (!settled) await limits.abandoned(gate.ticket).catch(() => {});
          throw error;
        }
      } finally {
        permit.release();
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
      // A browser in cookie mode whose cookie is gone (expired, or cleared): no session any more,
      // said as a refused token is (401), not as a malformed request; JSON mode keeps its 400.
      if (
        request.body?.refreshToken === undefined &&
        prefersCookie(request) &&
        refreshTokenFromCookie(request) === undefined
      )
        throw invalidRefreshToken();
      const { token, fromCookie } = presentedRefreshToken(request.body, request);
      const outcome = await sessions.refresh(token);
      if ("refused" in outcome) {
        const problem = invalidRefreshToken();
        // A cookie that no longer works is removed, so the browser stops sending it.
        if (fromCookie) problem.headers["set-cookie"] = CLEARED_REFRESH_COOKIE;
        throw problem;
      }
      reply.header("cache-control", "no-store");
      if (!fromCookie && !prefersCookie(request)) return outcome;
      const { refreshToken, ...rest } = outcome;
      setRefreshCookie(reply, refreshToken, refreshTokenTtlSeconds);
      return rest;
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
      const { token, fromCookie } = presentedRefreshToken(request.body, request);
      await sessions.end(token);
      if (fromCookie || prefersCookie(request)) reply.header("set-cookie", CLEARED_REFRESH_COOKIE);
      return reply.code(204).send();
    },
  );
}
