import { DEVELOPMENT_SERVICE_SECRET } from "@blossom/auth";
import { resolveSettings } from "@blossom/host";
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { usersService } from "./service.js";
import { usersConfig, usersSettings } from "./settings.js";

/** The settings as the host hands them over (resolved once, as the launcher does). */
const resolve = (raw: Record<string, unknown>) => resolveSettings(usersSettings, raw);
/** Resolved, then what the service derives from them. */
const read = (raw: Record<string, unknown>) => usersConfig(resolve(raw));

async function privateJwk(): Promise<string> {
  const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
  return JSON.stringify(await exportJWK(privateKey));
}

describe("users settings", () => {
  it("declares exactly its variables, prefixed with the service (platform-wide ones and libuv's pool size excepted)", () => {
    expect(Object.keys(usersService.settings ?? {}).sort()).toEqual([
      "BLOSSOM_ADMIN_PASSWORD",
      "BLOSSOM_SERVICE_SECRET",
      "REDIS_URL",
      "USERS_ACCESS_TOKEN_TTL_SECONDS",
      "USERS_LOGIN_ACCOUNT_MAX_FAILURES",
      "USERS_LOGIN_ADDRESS_MAX_FAILURES",
      "USERS_LOGIN_ADDRESS_WINDOW_SECONDS",
      "USERS_LOGIN_FAILURE_WINDOW_SECONDS",
      "USERS_LOGIN_LOCK_MAX_SECONDS",
      "USERS_LOGIN_LOCK_SECONDS",
      "USERS_LOGIN_MAX_FAILURES",
      "USERS_PASSWORD_HASH_COST",
      "USERS_PASSWORD_HASH_QUEUE",
      "USERS_REFRESH_TOKEN_TTL_SECONDS",
      "USERS_SERVICE_TOKEN_TTL_SECONDS",
      "USERS_SIGNING_KEY",
      "USERS_SIGNUP_MAX_PER_ADDRESS",
      "USERS_SIGNUP_WINDOW_SECONDS",
      "USERS_TRUSTED_PROXIES",
      "UV_THREADPOOL_SIZE",
    ]);
  });

  it("resolves typed values with the defaults, converting strings as the environment gives them", () => {
    expect(resolve({})).toEqual({
      USERS_ACCESS_TOKEN_TTL_SECONDS: 900,
      USERS_REFRESH_TOKEN_TTL_SECONDS: 2_592_000,
      USERS_SERVICE_TOKEN_TTL_SECONDS: 300,
      BLOSSOM_SERVICE_SECRET: DEVELOPMENT_SERVICE_SECRET,
      USERS_PASSWORD_HASH_COST: 15,
      UV_THREADPOOL_SIZE: 4,
      USERS_PASSWORD_HASH_QUEUE: 32,
      USERS_LOGIN_MAX_FAILURES: 5,
      USERS_LOGIN_ACCOUNT_MAX_FAILURES: 20,
      USERS_LOGIN_FAILURE_WINDOW_SECONDS: 900,
      USERS_LOGIN_LOCK_SECONDS: 60,
      USERS_LOGIN_LOCK_MAX_SECONDS: 900,
      USERS_LOGIN_ADDRESS_MAX_FAILURES: 30,
      USERS_LOGIN_ADDRESS_WINDOW_SECONDS: 600,
      USERS_SIGNUP_MAX_PER_ADDRESS: 5,
      USERS_SIGNUP_WINDOW_SECONDS: 600,
      USERS_TRUSTED_PROXIES: "loopback",
    });
    expect(resolve({ USERS_ACCESS_TOKEN_TTL_SECONDS: "120", BLOSSOM_ADMIN_PASSWORD: "" })).toMatchObject({
      USERS_ACCESS_TOKEN_TTL_SECONDS: 120,
    });
    expect(resolve({ BLOSSOM_ADMIN_PASSWORD: "" })).not.toHaveProperty("BLOSSOM_ADMIN_PASSWORD");
  });

  it("derives the limits, the trusted proxies and no signing key from the defaults", () => {
    expect(usersConfig(resolve({}))).toEqual({
      signingKey: undefined,
      limits: {
        login: {
          maxFailures: 5,
          accountMaxFailures: 20,
          windowSeconds: 900,
          lockSeconds: 60,
          maxLockSeconds: 900,
        },
        loginAddress: { maxFailures: 30, windowSeconds: 600 },
        signUp: { max: 5, windowSeconds: 600 },
      },
      trustedProxies: ["loopback"],
    });
  });

  it("keeps the limits on whatever the environment, with the values set", () => {
    const settings = resolve({
      USERS_SIGNUP_MAX_PER_ADDRESS: "2",
      USERS_LOGIN_LOCK_SECONDS: "1",
      USERS_LOGIN_LOCK_MAX_SECONDS: "4",
      USERS_TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8",
      REDIS_URL: "redis://redis:6379",
    });
    expect(settings.REDIS_URL).toBe("redis://redis:6379");
    expect(usersConfig(settings)).toMatchObject({
      limits: {
        login: {
          maxFailures: 5,
          accountMaxFailures: 20,
          windowSeconds: 900,
          lockSeconds: 1,
          maxLockSeconds: 4,
        },
        loginAddress: { maxFailures: 30, windowSeconds: 600 },
        signUp: { max: 2, windowSeconds: 600 },
      },
      trustedProxies: ["127.0.0.1", "10.0.0.0/8"],
    });
    expect(usersConfig(resolve({ USERS_TRUSTED_PROXIES: "none" })).trustedProxies).toEqual([]);
  });

  it("refuses bad limits: a cap below the first lock, a malformed proxy, a budget of 0, a non-Redis URL", () => {
    expect(() => read({ USERS_LOGIN_LOCK_SECONDS: 600, USERS_LOGIN_LOCK_MAX_SECONDS: 60 })).toThrow(
      /USERS_LOGIN_LOCK_MAX_SECONDS: must be at least USERS_LOGIN_LOCK_SECONDS/,
    );
    expect(() => read({ USERS_TRUSTED_PROXIES: "gateway.internal" })).toThrow(/USERS_TRUSTED_PROXIES/);
    expect(() => read({ USERS_LOGIN_MAX_FAILURES: 0 })).toThrow(/USERS_LOGIN_MAX_FAILURES/);
    expect(() => read({ REDIS_URL: "http://redis:6379" })).toThrow(/REDIS_URL/);
  });

  it("refuses bad values, naming the variable but not quoting a secret", () => {
    expect(() => read({ USERS_ACCESS_TOKEN_TTL_SECONDS: 5 })).toThrow(/USERS_ACCESS_TOKEN_TTL_SECONDS/);
    expect(() => read({ USERS_PASSWORD_HASH_COST: 9 })).toThrow(/USERS_PASSWORD_HASH_COST/);
    expect(() => read({ USERS_PASSWORD_HASH_COST: 16 })).toThrow(/USERS_PASSWORD_HASH_COST/);
    expect(() => read({ BLOSSOM_ADMIN_PASSWORD: "short" })).toThrow(/BLOSSOM_ADMIN_PASSWORD/);
    try {
      read({ BLOSSOM_ADMIN_PASSWORD: "short" });
    } catch (error) {
      expect(String(error)).not.toContain("short");
    }
    const secret = '{"kty":"OKP","crv":"Ed25519","d":"ONP8oMaw3IQa9vMnveCHnVGlbMhdovQsDZAJU_vjTKU"}';
    expect(() => read({ USERS_SIGNING_KEY: secret })).toThrow(/USERS_SIGNING_KEY has no public part/);
    try {
      read({ USERS_SIGNING_KEY: secret });
    } catch (error) {
      expect(String(error)).not.toContain("ONP8oMaw");
    }
  });
});

describe("checkProduction", () => {
  const SECRET = "a-production-service-secret-of-40-characters";
  const check = (settings: Record<string, unknown>) =>
    usersService.checkProduction?.(resolve(settings)) ?? ["missing"];

  it("accepts a configured private Ed25519 key, a service secret of its own, and no (or a strong) admin password", async () => {
    const key = await privateJwk();
    expect(check({ USERS_SIGNING_KEY: key, BLOSSOM_SERVICE_SECRET: SECRET })).toEqual([]);
    expect(
      check({
        USERS_SIGNING_KEY: key,
        BLOSSOM_SERVICE_SECRET: SECRET,
        BLOSSOM_ADMIN_PASSWORD: "v8#Qm2!rTz9@Lp4w",
      }),
    ).toEqual([]);
  });

  it("refuses production without USERS_SIGNING_KEY: no key is ever generated there", () => {
    const problems = check({ BLOSSOM_SERVICE_SECRET: SECRET });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^USERS_SIGNING_KEY is not set/);
  });

  it("refuses a signing key that is not a private Ed25519 JWK, without quoting it", async () => {
    const { publicKey } = await generateKeyPair("EdDSA", { extractable: true });
    const publicOnly = JSON.stringify(await exportJWK(publicKey));
    const [problem] = check({ USERS_SIGNING_KEY: publicOnly });
    expect(problem).toMatch(/^USERS_SIGNING_KEY has no private part/);
    expect(problem).not.toContain(JSON.parse(publicOnly).x);
    expect(check({ USERS_SIGNING_KEY: "secret-but-not-json" })[0]).toMatch(/^USERS_SIGNING_KEY is not JSON/);
  });

  it("refuses a weak default admin password", async () => {
    const key = await privateJwk();
    for (const weak of ["changeme123", "password123", "admin123", "blossom-admin"]) {
      const problems = check({
        USERS_SIGNING_KEY: key,
        BLOSSOM_SERVICE_SECRET: SECRET,
        BLOSSOM_ADMIN_PASSWORD: weak,
      });
      expect(problems, weak).toHaveLength(1);
      expect(problems[0]).toMatch(/^BLOSSOM_ADMIN_PASSWORD is weak/);
      expect(problems[0]).not.toContain(weak);
    }
  });

  it("refuses the development service secret (it is public), an unset one and a short one, without quoting it", async () => {
    const key = await privateJwk();
    for (const secret of [undefined, "", DEVELOPMENT_SERVICE_SECRET]) {
      const problems = check({ USERS_SIGNING_KEY: key, BLOSSOM_SERVICE_SECRET: secret });
      expect(problems, String(secret)).toHaveLength(1);
      expect(problems[0]).toMatch(/^BLOSSOM_SERVICE_SECRET is not set \(the development secret is public\)/);
    }
    const short = "short-but-secret-31-characters!";
    const [problem] = check({ USERS_SIGNING_KEY: key, BLOSSOM_SERVICE_SECRET: short });
    expect(problem).toMatch(/^BLOSSOM_SERVICE_SECRET is under 32 characters/);
    expect(problem).not.toContain(short);
  });

  it("refuses password hashes cheaper than the production cost (a test-only saving)", async () => {
    const key = await privateJwk();
    const production = { USERS_SIGNING_KEY: key, BLOSSOM_SERVICE_SECRET: SECRET };
    expect(check({ ...production, USERS_PASSWORD_HASH_COST: "15" })).toEqual([]);
    for (const cost of ["10", "14"]) {
      const problems = check({ ...production, USERS_PASSWORD_HASH_COST: cost });
      expect(problems, cost).toHaveLength(1);
      expect(problems[0]).toMatch(/^USERS_PASSWORD_HASH_COST is below 15: .*refused in production/);
    }
  });

  it("reports every problem at once", () => {
    expect(check({ BLOSSOM_ADMIN_PASSWORD: "changeme123" })).toHaveLength(3);
  });
});
