import { createHash } from "node:crypto";
import { DEVELOPMENT_SERVICE_SECRET, serviceCredential, TokenVerifier } from "@blossom/auth";
import { propagationHeaders } from "@blossom/runtime";
import {
  type HttpAnswer,
  type HttpRequest,
  type ServiceUnderTest,
  startServiceForTest,
} from "@blossom/testkit";
import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  SignJWT,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rotateSigningKey } from "./auth/key-ring.js";
import { usersService } from "./service.js";
import type { UsersSettingsSchema } from "./settings.js";
import type { UsersTables } from "./store/tables.js";

// ---------------------------------------------------------------------------------------------
// A users service started by the test kit (the real host, on PGlite and the in-memory bus),
// verifying bearer tokens with a TokenVerifier pointed at its own JWKS (as the launcher does
// through discovery).

/** Users started by the test kit, its answers' texts recorded (see `answers`). */
type RunningUsers = ServiceUnderTest<UsersTables, UsersSettingsSchema>;

/**
 * Login and sign-up limits out of the way: every request here comes from 127.0.0.1 (the limits
 * have their own suite, login-limits.test.ts).
 */
const GENEROUS_LIMITS = {
  USERS_LOGIN_MAX_FAILURES: 100_000,
  USERS_LOGIN_ACCOUNT_MAX_FAILURES: 10_000,
  USERS_LOGIN_ADDRESS_MAX_FAILURES: 100_000,
  USERS_SIGNUP_MAX_PER_ADDRESS: 100_000,
};

/**
 * Cheap password hashes (scrypt N=2^10, a few ms) outside production, which refuses them: the
 * suite signs up and logs in dozens of times. The production instance below hashes at the
 * production cost, and times logins there.
 */
const CHEAP_HASHES = { USERS_PASSWORD_HASH_COST: 10 };

/** Every answer's text, from every instance: checked for secrets at the end. */
const answers: string[] = [];

async function startUsers(
  options: { settings?: Record<string, unknown>; environment?: string; dataDir?: string } = {},
): Promise<RunningUsers> {
  const environment = options.environment ?? "test";
  let url = "";
  // As the launcher does: the key fetch runs inside the request being verified and forwards its
  // headers, the caller's Authorization included.
  const verifier = new TokenVerifier({
    fetchKeys: async () => {
      const response = await fetch(`${url}/.well-known/jwks.json`, { headers: propagationHeaders() });
      if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
      return (await response.json()) as JSONWebKeySet;
    },
    refreshCooldownMs: 0,
  });
  const users = await startServiceForTest(usersService, {
    settings: {
      ...GENEROUS_LIMITS,
      ...(environment === "production" ? {} : CHEAP_HASHES),
      ...options.settings,
    },
    environment,
    verifier,
    seed: true,
    logLevel: "info",
    dataDir: options.dataDir,
  });
  url = users.url;
  const call = users.call;
  return Object.assign(users, {
    async call<T>(method: string, path: string, request?: HttpRequest): Promise<HttpAnswer<T>> {
      const answer = await call<T>(method, path, request);
      answers.push(answer.text);
      return answer;
    },
  });
}

interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}
interface User {
  id: string;
  email: string;
  name: string;
  role: string;
}
interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: Array<{ pointer: string; message: string }>;
}

const PROBLEM = (slug: string) => `https://blossom.dev/problems/${slug}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
const ADMIN_PASSWORD = "test-admin-password-9f2k";
const PASSWORD = "correct horse battery";

let counter = 0;
const uniqueEmail = (name: string) => `${name}-${Date.now()}-${++counter}@example.com`;

async function signUp(users: RunningUsers, name = "ann"): Promise<User & { password: string }> {
  const email = uniqueEmail(name);
  const created = await users.call<User>("POST", "/api/users", { body: { email, password: PASSWORD, name } });
  expect(created.status).toBe(201);
  return { ...created.body, password: PASSWORD };
}

async function login(users: RunningUsers, email: string, password = PASSWORD): Promise<TokenPair> {
  const answer = await users.call<TokenPair>("POST", "/api/auth/login", { body: { email, password } });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

/** The private key the service signs with now (read from its database, as an attacker with the DB could not in production). */
async function currentPrivateKey(users: RunningUsers): Promise<{ kid: string; jwk: JWK }> {
  const row = await users.host.context.db
    .selectFrom("signing_keys")
    .select(["kid", "private_jwk"])
    .where("retired_at", "is", null)
    .orderBy("created_at", "desc")
    .executeTakeFirstOrThrow();
  return { kid: row.kid, jwk: JSON.parse(row.private_jwk ?? "null") as JWK };
}

function expectChallenge(answer: HttpAnswer, error?: string) {
  expect(answer.status).toBe(401);
  expect(answer.headers.get("content-type")).toMatch(/application\/problem\+json/);
  const challenge = answer.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^Bearer realm="blossom"/);
  if (error) expect(challenge).toContain(`error="${error}"`);
}

// ---------------------------------------------------------------------------------------------

describe("users service", () => {
  let users: RunningUsers;
  beforeAll(async () => {
    users = await startUsers({ settings: { BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  });
  afterAll(async () => {
    await users?.close();
  });

  describe("sign-up", () => {
    it("creates a customer (201), ignores a smuggled role, and publishes users.user-registered.v1", async () => {
      const email = uniqueEmail("bea");
      const created = await users.call<User>("POST", "/api/users", {
        body: {
          email: email.toUpperCase(),
          password: PASSWORD,
          name: "Bea",
          role: "admin",
        },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(String), email, name: "Bea", role: "customer" });
      await expect
        .poll(() => users.published.find((event) => event.subject === created.body.id)?.data)
        .toEqual({ userId: created.body.id, email, name: "Bea" });
    });

    it("answers 409 email-taken for a taken email, whatever its case", async () => {
      const user = await signUp(users);
      const again = await users.call<Problem>("POST", "/api/users", {
        body: {
          email: user.email.toUpperCase(),
          password: "another password",
          name: "Other",
        },
      });
      expect(again.status).toBe(409);
      expect(again.body.type).toBe(PROBLEM("email-taken"));
    });

    it("answers 400 problem+json for a bad email, a short password, missing fields and malformed bodies", async () => {
      const bad = await users.call<Problem>("POST", "/api/users", {
        body: {
          email: "nope",
          password: "short",
          name: "X",
        },
      });
      expect(bad.status).toBe(400);
      expect(bad.headers.get("content-type")).toMatch(/application\/problem\+json/);
      expect(bad.body.errors?.map((error) => error.pointer)).toEqual(
        expect.arrayContaining(["/email", "/password"]),
      );
      for (const body of [
        {},
        { email: uniqueEmail("x"), password: PASSWORD },
        "{oops",
        "[]",
        "null",
        '"x"',
      ]) {
        const answer = await users.call("POST", "/api/users", { body });
        expect(answer.status, JSON.stringify(body)).toBe(400);
      }
      const longPassword = await users.call("POST", "/api/users", {
        body: {
          email: uniqueEmail("x"),
          password: "x".repeat(201),
          name: "X",
        },
      });
      expect(longPassword.status).toBe(400);
    });
  });

  describe("login", () => {
    it("answers 200 with a Bearer pair: an EdDSA JWT with the Blossom claims and an opaque refresh token", async () => {
      const user = await signUp(users, "cid");
      const answer = await users.call<TokenPair>("POST", "/api/auth/login", {
        body: {
          email: user.email.toUpperCase(),
          password: PASSWORD,
        },
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("cache-control")).toBe("no-store");
      expect(answer.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        tokenType: "Bearer",
        expiresIn: 900,
      });
      const header = decodeProtectedHeader(answer.body.accessToken);
      expect(header).toEqual({ alg: "EdDSA", kid: expect.any(String), typ: "JWT" });
      const claims = decodeJwt(answer.body.accessToken);
      expect(claims).toEqual({
        sub: user.id,
        role: "customer",
        email: user.email,
        iss: "blossom-users",
        aud: "blossom",
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(900);
      expect(Math.abs((claims.iat ?? 0) - Date.now() / 1000)).toBeLessThan(10);
    });

    it("answers 400 for malformed login input, and 401 (not 400) for a short wrong password", async () => {
      for (const body of [
        {},
        { email: "not-an-email", password: "x" },
        { email: uniqueEmail("a") },
        "{",
        "[]",
      ]) {
        expect((await users.call("POST", "/api/auth/login", { body })).status, JSON.stringify(body)).toBe(
          400,
        );
      }
      const user = await signUp(users);
      expect(
        (await users.call("POST", "/api/auth/login", { body: { email: user.email, password: "short" } }))
          .status,
      ).toBe(401);
    });
  });

  describe("me", () => {
    it("answers 401 with a WWW-Authenticate challenge without a token", async () => {
      expectChallenge(await users.call("GET", "/api/users/me"));
      expectChallenge(await users.call("PATCH", "/api/users/me", { body: { name: "X" } }));
    });

    it("shows and renames the signed-in user, and nothing else", async () => {
      const user = await signUp(users, "eve");
      const { accessToken } = await login(users, user.email);
      const me = await users.call<User>("GET", "/api/users/me", { headers: bearer(accessToken) });
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: user.id, email: user.email, name: "eve", role: "customer" });

      const renamed = await users.call<User>("PATCH", "/api/users/me", {
        body: { name: "Eve Renamed", role: "admin", email: "x@example.com", password: "new password" },
        headers: bearer(accessToken),
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toEqual({ id: user.id, email: user.email, name: "Eve Renamed", role: "customer" });
      const again = await users.call<User>("GET", "/api/users/me", { headers: bearer(accessToken) });
      expect(again.body.name).toBe("Eve Renamed");
      // The password was not changed by the smuggled field.
      await login(users, user.email, PASSWORD);

      for (const body of [
        {},
        { name: "" },
        { name: {} },
        { role: "admin" },
        "{",
        "[]",
        { name: "x".repeat(201) },
      ]) {
        const bad = await users.call("PATCH", "/api/users/me", { body, headers: bearer(accessToken) });
        expect(bad.status, JSON.stringify(body)).toBe(400);
      }
    });

    it("refuses tampered, expired, alg none, foreign-key and wrong-issuer tokens with 401 and a challenge", async () => {
      const user = await signUp(users, "fay");
      const { accessToken } = await login(users, user.email);
      const [header, payload, signature] = accessToken.split(".") as [string, string, string];
      const claims = decodeJwt(accessToken);
      const { kid, jwk } = await currentPrivateKey(users);
      const realKey = await importJWK(jwk, "EdDSA");
      const now = Math.floor(Date.now() / 1000);
      const sign = (key: Parameters<SignJWT["sign"]>[0], body: Record<string, unknown>, keyId = kid) =>
        new SignJWT(body).setProtectedHeader({ alg: "EdDSA", kid: keyId, typ: "JWT" }).sign(key);
      const foreign = (await generateKeyPair("EdDSA")).privateKey;

      const refused: Record<string, string> = {
        tampered: `${header}.${b64url({ ...claims, role: "admin" })}.${signature}`,
        "signature cut": `${header}.${payload}.`,
        "alg none": `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ ...claims, exp: now + 600 })}.`,
        expired: await sign(realKey, { ...claims, iat: now - 3600, exp: now - 120 }),
        "foreign key, our kid": await sign(foreign, claims),
        "wrong issuer": await sign(realKey, { ...claims, iss: "evil" }),
        "wrong audience": await sign(realKey, { ...claims, aud: "elsewhere" }),
        "no role": await sign(realKey, { ...claims, role: "root" }),
        garbage: "not.a.jwt",
      };
      for (const [what, token] of Object.entries(refused)) {
        const answer = await users.call<Problem>("GET", "/api/users/me", { headers: bearer(token) });
        expect(answer.status, what).toBe(401);
        expectChallenge(answer, "invalid_token");
        expect(answer.body.type).toBe(PROBLEM("unauthorized"));
      }
      // A control: the same key and claims, untouched, are accepted.
      expect(
        (await users.call("GET", "/api/users/me", { headers: bearer(await sign(realKey, claims)) })).status,
      ).toBe(200);
      for (const authorization of ["Bearer", "Basic dXNlcjpwYXNz", `Bearer ${accessToken} extra`]) {
        const answer = await users.call("GET", "/api/users/me", { headers: { authorization } });
        expectChallenge(answer, "invalid_request");
      }
    });
  });

  // TokenVerifier fetches the key set again for an unknown kid; the retry's failure must still be a 401.
  it("refuses a token signed by a key that no key set lists (unknown kid) with 401, not 500", async () => {
    const user = await signUp(users, "kim");
    const { accessToken } = await login(users, user.email);
    const foreign = (await generateKeyPair("EdDSA")).privateKey;
    const token = await new SignJWT(decodeJwt(accessToken))
      .setProtectedHeader({ alg: "EdDSA", kid: "someone-elses-key", typ: "JWT" })
      .sign(foreign);
    const answer = await users.call("GET", "/api/users/me", { headers: bearer(token) });
    expectChallenge(answer, "invalid_token");
  });

  describe("refresh and logout", () => {
    it("rotates: a new pair, the old refresh token spent; reusing it revokes the whole family", async () => {
      const user = await signUp(users, "gus");
      const first = await login(users, user.email);
      const other = await login(users, user.email); // another device: another family

      const second = await users.call<TokenPair>("POST", "/api/auth/refresh", {
        body: {
          refreshToken: first.refreshToken,
        },
      });
      expect(second.status).toBe(200);
      expect(second.headers.get("cache-control")).toBe("no-store");
      expect(second.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        tokenType: "Bearer",
        expiresIn: 900,
      });
      expect(second.body.refreshToken).not.toBe(first.refreshToken);
      expect(decodeJwt(second.body.accessToken).sub).toBe(user.id);
      expect(
        (await users.call("GET", "/api/users/me", { headers: bearer(second.body.accessToken) })).status,
      ).toBe(200);

      // The spent token again: refused, and the family's newest token dies with it.
      const reuse = await users.call<Problem>("POST", "/api/auth/refresh", {
        body: {
          refreshToken: first.refreshToken,
        },
      });
      expectChallenge(reuse);
      expect(reuse.body.type).toBe(PROBLEM("invalid-refresh-token"));
      const newest = await users.call<Problem>("POST", "/api/auth/refresh", {
        body: {
          refreshToken: second.body.refreshToken,
        },
      });
      expect(newest.status).toBe(401);
      expect(newest.body.type).toBe(PROBLEM("invalid-refresh-token"));
      expect(
        users.logs().some((line) => line.level === "warn" && /refresh token reused/.test(line.msg)),
      ).toBe(true);

      // Only that family: the other device still refreshes.
      expect(
        (await users.call("POST", "/api/auth/refresh", { body: { refreshToken: other.refreshToken } }))
          .status,
      ).toBe(200);
    });

    it("refuses an unknown or expired refresh token with the same 401, and malformed input with 400", async () => {
      const user = await signUp(users);
      const pair = await login(users, user.email);
      await users.host.context.db
        .updateTable("refresh_tokens")
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where("token_hash", "=", createHash("sha256").update(pair.refreshToken).digest("hex"))
        .execute();
      const expired = await users.call<Problem>("POST", "/api/auth/refresh", {
        body: {
          refreshToken: pair.refreshToken,
        },
      });
      const unknown = await users.call<Problem>("POST", "/api/auth/refresh", {
        body: { refreshToken: "made-up" },
      });
      expect(expired.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect({ ...expired.body, requestId: 0 }).toEqual({ ...unknown.body, requestId: 0 });
      for (const body of [
        {},
        { refreshToken: "" },
        { refreshToken: ["a", "b"] },
        { refreshToken: "x".repeat(513) },
        "{",
      ]) {
        expect((await users.call("POST", "/api/auth/refresh", { body })).status, JSON.stringify(body)).toBe(
          400,
        );
        expect((await users.call("POST", "/api/auth/logout", { body })).status, JSON.stringify(body)).toBe(
          400,
        );
      }
    });

    it("stores refresh tokens only as SHA-256 hashes, with family, user, expiry and usage", async () => {
      const user = await signUp(users);
      const pair = await login(users, user.email);
      const rows = await users.host.context.db
        .selectFrom("refresh_tokens")
        .selectAll()
        .where("user_id", "=", user.id)
        .execute();
      expect(rows).toHaveLength(1);
      const [row] = rows;
      expect(row?.token_hash).toBe(createHash("sha256").update(pair.refreshToken).digest("hex"));
      expect(JSON.stringify(rows)).not.toContain(pair.refreshToken);
      const lifetime = new Date(row?.expires_at ?? 0).getTime() - Date.now();
      expect(Math.abs(lifetime - 2_592_000_000)).toBeLessThan(60_000);
      expect(row).toMatchObject({ used_at: null, revoked_at: null, family_id: expect.any(String) });
    });

    it("takes a role change into the next access token on refresh", async () => {
      const user = await signUp(users);
      const pair = await login(users, user.email);
      await users.host.context.db
        .updateTable("users")
        .set({ role: "admin" })
        .where("id", "=", user.id)
        .execute();
      const next = await users.call<TokenPair>("POST", "/api/auth/refresh", {
        body: {
          refreshToken: pair.refreshToken,
        },
      });
      expect(decodeJwt(next.body.accessToken).role).toBe("admin");
    });

    it("logs out with 204: the refresh token (and its family) is revoked; logging out again is harmless", async () => {
      const user = await signUp(users, "hal");
      const pair = await login(users, user.email);
      const out = await users.call("POST", "/api/auth/logout", { body: { refreshToken: pair.refreshToken } });
      expect(out.status).toBe(204);
      expect(out.text).toBe("");
      const refresh = await users.call<Problem>("POST", "/api/auth/refresh", {
        body: {
          refreshToken: pair.refreshToken,
        },
      });
      expect(refresh.status).toBe(401);
      expect(refresh.body.type).toBe(PROBLEM("invalid-refresh-token"));
      expect(
        (await users.call("POST", "/api/auth/logout", { body: { refreshToken: pair.refreshToken } })).status,
      ).toBe(204);
      expect(
        (await users.call("POST", "/api/auth/logout", { body: { refreshToken: "never-issued" } })).status,
      ).toBe(204);
    });
  });

  describe("JWKS and key rotation", () => {
    it("publishes public Ed25519 keys only, and the token's kid is among them", async () => {
      const user = await signUp(users);
      const { accessToken } = await login(users, user.email);
      const jwks = await users.call<{ keys: Array<Record<string, unknown>> }>(
        "GET",
        "/.well-known/jwks.json",
      );
      expect(jwks.status).toBe(200);
      expect(jwks.headers.get("cache-control")).toMatch(/max-age/);
      expect(jwks.body.keys.length).toBeGreaterThanOrEqual(1);
      for (const key of jwks.body.keys) {
        expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
        expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
      }
      const { kid } = decodeProtectedHeader(accessToken);
      expect(jwks.body.keys.map((key) => key.kid)).toContain(kid);
      const stored = await currentPrivateKey(users);
      expect(kid).toBe(stored.kid);
      expect(kid).toBe(
        await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: stored.jwk.x as string }),
      );
    });

    it("ignores a bearer token sent to the key set and to the credential routes (no verification, no deadlock)", async () => {
      const user = await signUp(users);
      const pair = await login(users, user.email);
      const [header, , signature] = pair.accessToken.split(".");
      const forged = `${header}.${b64url({ ...decodeJwt(pair.accessToken), role: "admin" })}.${signature}`;
      const stale = bearer(forged);
      expect((await users.call("GET", "/.well-known/jwks.json", { headers: stale })).status).toBe(200);
      expect(
        (await users.call("GET", "/.well-known/jwks.json", { headers: bearer(pair.accessToken) })).status,
      ).toBe(200);
      const login2 = await users.call("POST", "/api/auth/login", {
        body: { email: user.email, password: PASSWORD },
        headers: stale,
      });
      expect(login2.status).toBe(200);
      const refreshed = await users.call<TokenPair>("POST", "/api/auth/refresh", {
        body: { refreshToken: pair.refreshToken },
        headers: stale,
      });
      expect(refreshed.status).toBe(200);
      const out = await users.call("POST", "/api/auth/logout", {
        body: { refreshToken: refreshed.body.refreshToken },
        headers: stale,
      });
      expect(out.status).toBe(204);
      // Elsewhere the stale token is still refused.
      expectChallenge(await users.call("GET", "/api/users/me", { headers: stale }), "invalid_token");
    });

    it("rotates: new tokens use the new key, tokens of the retired (still listed) key keep verifying", async () => {
      const user = await signUp(users, "ida");
      const before = await login(users, user.email);
      const oldKid = decodeProtectedHeader(before.accessToken).kid;

      const newKid = await rotateSigningKey(users.host.context.db);
      expect(newKid).not.toBe(oldKid);
      const jwks = await users.call<{ keys: Array<{ kid: string }> }>("GET", "/.well-known/jwks.json");
      expect(jwks.body.keys.map((key) => key.kid)).toEqual([newKid, oldKid]);

      const after = await login(users, user.email);
      expect(decodeProtectedHeader(after.accessToken).kid).toBe(newKid);
      for (const token of [before.accessToken, after.accessToken]) {
        expect((await users.call("GET", "/api/users/me", { headers: bearer(token) })).status).toBe(200);
      }
      const refreshed = await users.call<TokenPair>("POST", "/api/auth/refresh", {
        body: {
          refreshToken: before.refreshToken,
        },
      });
      expect(decodeProtectedHeader(refreshed.body.accessToken).kid).toBe(newKid);

      // Once its tokens can no longer be valid, a retired key leaves the set.
      await users.host.context.db
        .updateTable("signing_keys")
        .set({ retired_at: new Date(Date.now() - 24 * 3600 * 1000) })
        .where("kid", "=", oldKid as string)
        .execute();
      const later = await users.call<{ keys: Array<{ kid: string }> }>("GET", "/.well-known/jwks.json");
      expect(later.body.keys.map((key) => key.kid)).toEqual([newKid]);
    });
  });

  describe("service tokens", () => {
    const issue = (body: unknown, headers?: Record<string, string>) =>
      users.call<{ accessToken: string; tokenType: string; expiresIn: number } & Partial<Problem>>(
        "POST",
        "/internal/auth/service-token",
        { body, headers },
      );
    const jwksVerifier = () =>
      new TokenVerifier({
        fetchKeys: async () =>
          (await (await fetch(`${users.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet,
      });

    it("issues a short-lived token for the service its credential names, verifiable with the JWKS", async () => {
      const answer = await issue({
        service: "orders",
        credential: serviceCredential(DEVELOPMENT_SERVICE_SECRET, "orders"),
      });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.headers.get("cache-control")).toBe("no-store");
      expect(answer.body).toEqual({ accessToken: expect.any(String), tokenType: "Bearer", expiresIn: 300 });
      const claims = decodeJwt(answer.body.accessToken);
      expect(claims).toMatchObject({ sub: "service:orders", aud: "blossom-internal", iss: "blossom-users" });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
      expect(claims).not.toHaveProperty("role");

      const verifier = jwksVerifier();
      expect(await verifier.verifyService(answer.body.accessToken)).toEqual({ service: "orders" });
      await expect(verifier.verify(answer.body.accessToken)).rejects.toThrow(/service token/);
      // Never a user: a user's route answers 401, as to no token at all.
      expectChallenge(
        await users.call("GET", "/api/users/me", { headers: bearer(answer.body.accessToken) }),
        "invalid_token",
      );
    });

    it("refuses a wrong credential with 401 problem+json, the same whatever is wrong", async () => {
      const refused = [
        {
          service: "orders",
          credential: serviceCredential("another secret altogether, 32+ chars", "orders"),
        },
        // The credential of another service does not name this one.
        { service: "orders", credential: serviceCredential(DEVELOPMENT_SERVICE_SECRET, "payments") },
        { service: "orders", credential: "x" },
      ];
      for (const body of refused) {
        const answer = await issue(body);
        expectChallenge(answer);
        expect(answer.body.type).toBe(PROBLEM("invalid-service-credential"));
        expect(answer.text).not.toContain("accessToken");
      }
    });

    it("validates the body (400 naming the field) and ignores a bearer token sent along", async () => {
      const bad = await issue({ service: "Orders!", credential: "x" });
      expect(bad.status).toBe(400);
      expect(bad.body.errors?.map((error) => error.pointer)).toContain("/service");
      expect((await issue({ service: "orders" })).status).toBe(400);
      const user = await signUp(users, "svc");
      const { accessToken } = await login(users, user.email);
      const withBearer = await issue(
        { service: "payments", credential: serviceCredential(DEVELOPMENT_SERVICE_SECRET, "payments") },
        { ...bearer(`${accessToken}x`) },
      );
      expect(withBearer.status).toBe(200);
    });

    it("is not on the gateway's routes: its path is outside /api", async () => {
      const doc = await users.call<{ paths: Record<string, unknown> }>("GET", "/openapi.json");
      expect(Object.keys(doc.body.paths)).toContain("/internal/auth/service-token");
    });
  });

  describe("admin seed", () => {
    it("seeds admin@blossom.local with BLOSSOM_ADMIN_PASSWORD, as an admin, and announces it", async () => {
      const pair = await login(users, "admin@blossom.local", ADMIN_PASSWORD);
      expect(decodeJwt(pair.accessToken)).toMatchObject({ role: "admin", email: "admin@blossom.local" });
      const me = await users.call<User>("GET", "/api/users/me", { headers: bearer(pair.accessToken) });
      expect(me.body).toMatchObject({ email: "admin@blossom.local", role: "admin" });
      await expect
        .poll(() =>
          users.published.find((event) => (event.data as { email: string }).email === "admin@blossom.local"),
        )
        .toBeDefined();
      expect(users.logs().some((line) => /admin password generated/.test(line.msg))).toBe(false);
      expect(JSON.stringify(users.logs())).not.toContain(ADMIN_PASSWORD);
    });
  });

  it("never answers with a password, a hash or a private key", async () => {
    expect(answers.length).toBeGreaterThan(50);
    for (const text of answers) {
      expect(text).not.toMatch(/scrypt\$|password_?hash|private_jwk|"d"\s*:/i);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(ADMIN_PASSWORD);
    }
  });
});

describe("users service without BLOSSOM_ADMIN_PASSWORD (development)", () => {
  it("generates the admin password, logs it once at warn level, and keeps key and admin over a restart", async () => {
    const first = await startUsers({ environment: "development" });
    let second: RunningUsers | undefined;
    try {
      const generated = first.logs().filter((line) => /^admin password generated: /.test(line.msg));
      expect(generated).toHaveLength(1);
      expect(generated[0]?.level).toBe("warn");
      const password = /^admin password generated: (\S+)/.exec(generated[0]?.msg ?? "")?.[1] ?? "";
      expect(password.length).toBeGreaterThanOrEqual(20);
      const pair = await login(first, "admin@blossom.local", password);
      expect(decodeJwt(pair.accessToken).role).toBe("admin");
      await first.close({ keepData: true });

      // Restart on the same database: same key (the token still verifies), same admin, no new password.
      second = await startUsers({ environment: "development", dataDir: first.dataDir });
      expect(second.logs().some((line) => /admin password generated/.test(line.msg))).toBe(false);
      expect((await second.call("GET", "/api/users/me", { headers: bearer(pair.accessToken) })).status).toBe(
        200,
      );
      await login(second, "admin@blossom.local", password);
    } finally {
      await (second ?? first).close();
    }
  });

  it("sets a configured admin password on an existing admin at the next start", async () => {
    const first = await startUsers();
    const dataDir = first.dataDir;
    await first.close({ keepData: true });
    const second = await startUsers({ dataDir, settings: { BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    try {
      await login(second, "admin@blossom.local", ADMIN_PASSWORD);
    } finally {
      await second.close();
    }
  });
});

describe("users service in production", () => {
  it("refuses to start without USERS_SIGNING_KEY: it never generates a key there", async () => {
    await expect(startServiceForTest(usersService, { environment: "production" })).rejects.toThrow(
      /USERS_SIGNING_KEY/,
    );
  });

  describe("with a configured key", () => {
    let users: RunningUsers;
    let jwk: JWK;
    beforeAll(async () => {
      const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
      jwk = { ...(await exportJWK(privateKey)), kid: "prod-2030-01" };
      users = await startUsers({
        environment: "production",
        settings: { USERS_SIGNING_KEY: JSON.stringify(jwk), BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD },
      });
    });
    afterAll(async () => {
      await users?.close();
    });

    it("signs with the configured key (only its public half stored), hashes at the production cost and seeds no admin", async () => {
      const admin = await users.call("POST", "/api/auth/login", {
        body: {
          email: "admin@blossom.local",
          password: ADMIN_PASSWORD,
        },
      });
      expect(admin.status).toBe(401);
      const user = await signUp(users);
      const pair = await login(users, user.email);
      expect(decodeProtectedHeader(pair.accessToken).kid).toBe("prod-2030-01");
      expect((await users.call("GET", "/api/users/me", { headers: bearer(pair.accessToken) })).status).toBe(
        200,
      );
      const rows = await users.host.context.db.selectFrom("signing_keys").selectAll().execute();
      expect(rows).toEqual([
        expect.objectContaining({ kid: "prod-2030-01", private_jwk: null, retired_at: null }),
      ]);
      expect(JSON.stringify(rows)).not.toContain(jwk.d as string);
      const stored = await users.host.context.db
        .selectFrom("users")
        .select("password_hash")
        .where("id", "=", user.id)
        .executeTakeFirstOrThrow();
      expect(stored.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    });

    it("answers the same 401 for an unknown email and a wrong password, in comparable time (at the production cost)", async () => {
      const user = await signUp(users, "dan");
      const strip = ({ requestId: _requestId, ...rest }: Problem) => rest;
      const attempt = async (email: string, password: string) => {
        const started = performance.now();
        const answer = await users.call<Problem>("POST", "/api/auth/login", { body: { email, password } });
        return { answer, ms: performance.now() - started };
      };
      const wrong = [];
      const unknown = [];
      for (let i = 0; i < 3; i++) {
        wrong.push(await attempt(user.email, "wrong password"));
        unknown.push(await attempt(uniqueEmail("nobody"), "wrong password"));
      }
      for (const { answer } of [...wrong, ...unknown]) {
        expectChallenge(answer);
        expect(strip(answer.body)).toEqual(strip((wrong[0] as (typeof wrong)[number]).answer.body));
      }
      expect(wrong[0]?.answer.body).toMatchObject({
        type: PROBLEM("invalid-credentials"),
        status: 401,
        instance: "/api/auth/login",
      });
      // Without the dummy hash an unknown email would answer in a few ms, a wrong password in tens.
      const average = (runs: Array<{ ms: number }>) =>
        runs.reduce((sum, run) => sum + run.ms, 0) / runs.length;
      expect(average(unknown)).toBeGreaterThan(average(wrong) * 0.25);
    });
  });

  it("refuses a configured key whose public part does not match its private part", async () => {
    const a = await exportJWK((await generateKeyPair("EdDSA", { extractable: true })).privateKey);
    const b = await exportJWK((await generateKeyPair("EdDSA", { extractable: true })).privateKey);
    await expect(
      startUsers({
        environment: "production",
        settings: { USERS_SIGNING_KEY: JSON.stringify({ ...a, x: b.x }) },
      }),
    ).rejects.toThrow(/USERS_SIGNING_KEY cannot be used|does not match/);
  });
});
