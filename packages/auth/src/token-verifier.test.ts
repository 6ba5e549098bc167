import { createLogger, createServer } from "@blossom/runtime";
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerAuthentication, requireService, requireUser } from "./request-auth.js";
import { InvalidTokenError, TokenVerifier } from "./token-verifier.js";

const KID = "test-key";
let privateKey: CryptoKey;
let verifier: TokenVerifier;

beforeAll(async () => {
  const pair = await generateKeyPair("EdDSA", { extractable: true });
  privateKey = pair.privateKey;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "EdDSA", use: "sig" };
  verifier = new TokenVerifier({ fetchKeys: async () => ({ keys: [publicJwk] }) });
});

const now = () => Math.floor(Date.now() / 1000);

/** A token as the users service signs one, with `claims` overriding the defaults. */
function sign(claims: JWTPayload & Record<string, unknown>, key: CryptoKey = privateKey): Promise<string> {
  return new SignJWT({ iss: "blossom-users", iat: now(), exp: now() + 300, ...claims })
    .setProtectedHeader({ alg: "EdDSA", kid: KID, typ: "JWT" })
    .sign(key);
}
const userToken = (claims: Record<string, unknown> = {}) =>
  sign({ sub: "user-1", aud: "blossom", role: "customer", email: "a@example.com", ...claims });
const serviceToken = (service = "orders", claims: Record<string, unknown> = {}) =>
  sign({ sub: `service:${service}`, aud: "blossom-internal", ...claims });

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as Error).message;
  }
  throw new Error("the token was accepted");
}

describe("TokenVerifier: users' tokens and service tokens", () => {
  it("tells a user's token from a service token by its audience", async () => {
    expect(await verifier.identify(await userToken())).toEqual({
      kind: "user",
      user: { userId: "user-1", role: "customer", email: "a@example.com" },
    });
    expect(await verifier.identify(await serviceToken("orders"))).toEqual({
      kind: "service",
      service: { service: "orders" },
    });
    expect(await verifier.verify(await userToken({ role: "admin" }))).toMatchObject({ role: "admin" });
    expect(await verifier.verifyService(await serviceToken("payments"))).toEqual({ service: "payments" });
  });

  it("never takes a service token for a user's, nor a user's for a service token", async () => {
    expect(await refusal(verifier.verify(await serviceToken()))).toMatch(
      /service token does not sign a user in/,
    );
    expect(await refusal(verifier.verifyService(await userToken()))).toMatch(/not a service token/);
    // Borrowing the other kind's claims does not help either.
    expect(await refusal(verifier.verify(await serviceToken("orders", { role: "admin" })))).toMatch(
      /does not name a service/,
    );
    expect(await refusal(verifier.identify(await userToken({ sub: "service:orders" })))).toMatch(
      /does not name a user/,
    );
  });

  it("refuses a token for both audiences, for another audience, or without one", async () => {
    const both = await sign({ sub: "service:orders", aud: ["blossom", "blossom-internal"], role: "admin" });
    expect(await refusal(verifier.identify(both))).toMatch(/aud claim/);
    expect(await refusal(verifier.identify(await serviceToken("orders", { aud: "elsewhere" })))).toMatch(
      /aud claim/,
    );
    expect(await refusal(verifier.identify(await sign({ sub: "service:orders" })))).toMatch(/aud claim/);
  });

  it("refuses an expired service token, a malformed service name, and another issuer", async () => {
    const expired = await serviceToken("orders", { iat: now() - 3600, exp: now() - 120 });
    expect(await refusal(verifier.verifyService(expired))).toMatch(/expired/);
    for (const sub of ["service:", "service:Orders", "service:../users", "orders"]) {
      expect(
        await refusal(verifier.verifyService(await sign({ sub, aud: "blossom-internal" }))),
        sub,
      ).toMatch(/does not name a service|aud claim/);
    }
    expect(await refusal(verifier.verifyService(await serviceToken("orders", { iss: "evil" })))).toMatch(
      /iss claim/,
    );
    const foreign = (await generateKeyPair("EdDSA")).privateKey;
    expect(
      await refusal(
        verifier.verifyService(await sign({ sub: "service:orders", aud: "blossom-internal" }, foreign)),
      ),
    ).toMatch(/signature/);
  });
});

describe("TokenVerifier: issue time", () => {
  it("refuses a token issued in the future beyond the clock tolerance (30 s), accepts one within it", async () => {
    expect(await refusal(verifier.verify(await userToken({ iat: now() + 120, exp: now() + 600 })))).toMatch(
      /iat claim is in the future/,
    );
    expect(
      await refusal(
        verifier.verifyService(await serviceToken("orders", { iat: now() + 3600, exp: now() + 4000 })),
      ),
    ).toMatch(/iat claim is in the future/);
    expect(await verifier.verify(await userToken({ iat: now() + 20 }))).toMatchObject({ userId: "user-1" });
  });
});

describe("requireService and requireUser on a real server", () => {
  let url: string;
  let app: ReturnType<typeof createServer>["app"];

  beforeAll(async () => {
    ({ app } = createServer({ service: "test", logger: createLogger({ service: "test", level: "silent" }) }));
    registerAuthentication(app as never, verifier);
    app.post(
      "/internal/things",
      {
        config: { auth: "service" },
        schema: { body: { type: "object", required: ["n"], properties: { n: { type: "integer" } } } },
      },
      async (request) => requireService(request, ["orders"]),
    );
    app.get("/api/me", { config: { auth: "user" } }, async (request) => requireUser(request));
    app.post(
      "/api/admin-things",
      {
        config: { auth: "admin" },
        schema: { body: { type: "object", required: ["n"], properties: { n: { type: "integer" } } } },
      },
      async () => ({ ok: true }),
    );
    app.get("/api/open", { config: { auth: "public" } }, async (request) => ({
      user: request.principal ?? null,
    }));
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await app?.close();
  });

  const call = async (method: string, path: string, token?: string, body: unknown = { n: 1 }) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(method === "POST" ? { "content-type": "application/json" } : {}),
      },
      ...(method === "POST" ? { body: JSON.stringify(body) } : {}),
    });
    return {
      status: response.status,
      challenge: response.headers.get("www-authenticate"),
      body: (await response.json()) as Record<string, unknown>,
    };
  };

  it("lets the named service in, and refuses everybody else", async () => {
    expect(await call("POST", "/internal/things", await serviceToken("orders"))).toMatchObject({
      status: 200,
      body: { service: "orders" },
    });
    const anonymous = await call("POST", "/internal/things");
    expect(anonymous.status).toBe(401);
    expect(anonymous.challenge).toMatch(/^Bearer realm="blossom"/);
    const user = await call("POST", "/internal/things", await userToken({ role: "admin" }));
    expect(user.status).toBe(401);
    expect(user.challenge).toMatch(/error="invalid_token"/);
    const other = await call("POST", "/internal/things", await serviceToken("payments"));
    expect(other.status).toBe(403);
    expect(other.body.detail).toMatch(/payments service may not call this route/);
  });

  it("says who may call before what the body lacks: 401 comes before 400", async () => {
    expect((await call("POST", "/internal/things", undefined, {})).status).toBe(401);
    expect((await call("POST", "/internal/things", await userToken(), {})).status).toBe(401);
    expect((await call("POST", "/internal/things", await serviceToken("orders"), {})).status).toBe(400);
  });

  it("refuses a service token on a user's route", async () => {
    const answer = await call("GET", "/api/me", await serviceToken("orders"));
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(/error="invalid_token"/);
    expect((await call("GET", "/api/me", await userToken())).body).toMatchObject({ userId: "user-1" });
  });

  it("checks the declared role before the body: 401 anonymous, 403 a customer, 400 only for an admin", async () => {
    expect((await call("POST", "/api/admin-things", undefined, {})).status).toBe(401);
    expect((await call("POST", "/api/admin-things", await userToken(), {})).status).toBe(403);
    expect((await call("POST", "/api/admin-things", await userToken({ role: "admin" }), {})).status).toBe(
      400,
    );
    expect((await call("POST", "/api/admin-things", await userToken({ role: "admin" }))).status).toBe(200);
  });

  it("lets anyone call a public route, and still refuses an invalid token there", async () => {
    expect((await call("GET", "/api/open")).body).toEqual({ user: null });
    expect((await call("GET", "/api/open", "not.a.token")).status).toBe(401);
  });

  it("refuses to register a route that does not declare who may call it", () => {
    const { app: fresh } = createServer({
      service: "test",
      logger: createLogger({ service: "test", level: "silent" }),
    });
    registerAuthentication(fresh as never, verifier);
    expect(() => fresh.get("/api/undeclared", async () => ({}))).toThrow(/declare who may call it/);
    expect(() => fresh.get("/api/declared", { config: { auth: "user" } }, async () => ({}))).not.toThrow();
  });
});
