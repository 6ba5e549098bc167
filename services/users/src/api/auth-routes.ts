import { randomBytes } from "node:crypto";
import { recordAudit } from "@blossom/host";
import type { App } from "@blossom/runtime";
import type { Sessions } from "../auth/sessions.js";
import { normalizeEmail } from "../domain/email.js";
import { hashPassword, verifyPassword } from "../domain/password.js";
import { findUserByEmail, type UsersDb } from "../store/users-store.js";
import { invalidCredentials, invalidRefreshToken } from "./problems.js";
import { ignoreBearerToken } from "./public-routes.js";
import { LoginBody, RefreshTokenBody, TokenPairView } from "./schemas.js";

export interface AuthRoutesOptions {
  db: UsersDb;
  sessions: Sessions;
}

/**
 * Sign-in, token refresh and sign-out: the body is the credential, and a bearer token sent along
 * is ignored. Token answers are never cached (RFC 6749 §5.1).
 */
export function authRoutes(app: App, { db, sessions }: AuthRoutesOptions): void {
  // An unknown email is checked against this hash, so that it costs the same scrypt as a wrong
  // password: the answer's timing does not tell which emails have an account.
  const dummyHash = hashPassword(randomBytes(32).toString("base64url"));
  dummyHash.catch(() => {});

  app.post(
    "/api/auth/login",
    {
      config: { auth: "public" },
      onRequest: ignoreBearerToken,
      schema: { body: LoginBody, response: { 200: TokenPairView } },
    },
    async (request, reply) => {
      const user = await findUserByEmail(db, normalizeEmail(request.body.email));
      const matches = await verifyPassword(request.body.password, user?.password_hash ?? (await dummyHash));
      if (!user || !matches) {
        // The attempted email is kept for admins (brute force shows up here), never the password.
        await recordAudit(db, {
          actor: user?.id ?? "anonymous",
          action: "auth.login-failed",
          target: normalizeEmail(request.body.email),
          details: { ip: request.ip },
        });
        throw invalidCredentials();
      }
      await recordAudit(db, {
        actor: user.id,
        action: "auth.login-succeeded",
        target: user.id,
        details: { ip: request.ip },
      });
      reply.header("cache-control", "no-store");
      return sessions.start({ id: user.id, email: user.email, role: user.role });
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
    { config: { auth: "public" }, onRequest: ignoreBearerToken, schema: { body: RefreshTokenBody } },
    async (request, reply) => {
      await sessions.end(request.body.refreshToken);
      return reply.code(204).send();
    },
  );
}
