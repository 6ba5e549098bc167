import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type ServiceUnderTest, startServiceForTest } from "@blossom/testkit";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockSeconds } from "./auth/login-limits.js";
import { usersService } from "./service.js";
import type { UsersSettingsSchema } from "./settings.js";
import type { UsersTables } from "./store/tables.js";

// The users service's own login and sign-up limits, through its real interface (the host's
// Fastify instance, `inject`, with the client address each request comes from), on short windows
// so that a lock can be waited out. Each test uses addresses and accounts of its own (the
// counters are shared by the whole instance, as in production), so the tests run concurrently:
// the locks that are waited out overlap. Password hashes are cheap (USERS_PASSWORD_HASH_COST, as
// in every test harness): the limits are counted before any hashing, whatever its cost.

const PASSWORD = "correct horse battery";
const SETTINGS = {
  USERS_LOGIN_MAX_FAILURES: "5",
  USERS_LOGIN_ACCOUNT_MAX_FAILURES: "1000",
  USERS_LOGIN_FAILURE_WINDOW_SECONDS: "60",
  USERS_LOGIN_LOCK_SECONDS: "2",
  USERS_LOGIN_LOCK_MAX_SECONDS: "4",
  USERS_LOGIN_ADDRESS_MAX_FAILURES: "100",
  USERS_LOGIN_ADDRESS_WINDOW_SECONDS: "60",
  USERS_SIGNUP_MAX_PER_ADDRESS: "3",
  USERS_SIGNUP_WINDOW_SECONDS: "3",
  USERS_TRUSTED_PROXIES: "10.9.9.9",
  USERS_PASSWORD_HASH_COST: "10",
};

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: Record<string, unknown>;
}

let nextAddress = 1;
/** A client address no other test uses. */
const newAddress = () => `198.51.100.${nextAddress++}`;

/** A users service started by the test kit (the real host on PGlite), and requests to it from a given client address. */
class Users {
  constructor(readonly service: ServiceUnderTest<UsersTables, UsersSettingsSchema>) {}

  static async start(settings: Record<string, string>): Promise<Users> {
    return new Users(await startServiceForTest(usersService, { settings }));
  }

  async post(
    path: string,
    payload: Record<string, unknown>,
    from: string,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await this.service.host.app.inject({
      method: "POST",
      url: path,
      payload,
      remoteAddress: from,
      headers,
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.json() as Record<string, unknown>,
    };
  }

  login(email: string, password: string, from: string): Promise<Answer> {
    return this.post("/api/auth/login", { email, password }, from);
  }

  async signUp(from: string): Promise<string> {
    const email = `ann-${randomUUID()}@example.com`;
    const created = await this.post("/api/users", { email, password: PASSWORD, name: "Ann" }, from);
    expect(created.status).toBe(201);
    return email;
  }

  /** The audit entries of one action on one target, oldest first. */
  async audit(action: string, target: string) {
    const rows = await this.service.host.context.db
      .selectFrom(sql`audit_log`.as("audit") as never)
      .select([sql<string>`actor`.as("actor"), sql<unknown>`details`.as("details")])
      .where(sql`action`, "=", action)
      .where(sql`target`, "=", target)
      .orderBy(sql`id`)
      .execute();
    return (rows as Array<{ actor: string; details: unknown }>).map((row) => ({
      actor: row.actor,
      details: (typeof row.details === "string" ? JSON.parse(row.details) : row.details) as Record<
        string,
        unknown
      >,
    }));
  }

  stop(): Promise<void> {
    return this.service.close();
  }
}

let users: Users;
const login = (email: string, password: string, from: string) => users.login(email, password, from);
const post = (
  path: string,
  payload: Record<string, unknown>,
  from: string,
  headers: Record<string, string> = {},
) => users.post(path, payload, from, headers);
const signUp = (from: string) => users.signUp(from);
const audit = (action: string, target: string) => users.audit(action, target);

function expectRefused(answer: Answer, what: RegExp): number {
  expect(answer.status).toBe(429);
  expect(answer.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({
    type: "https://blossom.dev/problems/rate-limited",
    title: "Too many requests",
    status: 429,
  });
  expect(answer.body.detail).toMatch(what);
  const retryAfter = Number(answer.headers["retry-after"]);
  expect(retryAfter).toBeGreaterThan(0);
  return retryAfter;
}

/** The problem as a client compares it: without what differs per request. */
function comparable(answer: Answer) {
  const { requestId: _requestId, instance: _instance, ...body } = answer.body;
  return { status: answer.status, retryAfter: answer.headers["retry-after"], body };
}

beforeAll(async () => {
  users = await Users.start(SETTINGS);
}, 60_000);

afterAll(async () => {
  await users?.stop();
});

describe.concurrent("login limits, per account and client address", () => {
  it("15 wrong passwords, then the right one: refused with 429 while locked (the same answer as a wrong one), accepted once the lock ends", async () => {
    const attacker = newAddress();
    const email = await signUp(newAddress());
    const answers: Answer[] = [];
    for (let guess = 0; guess < 15; guess++)
      answers.push(await login(email, `wrong guess ${guess}`, attacker));
    expect(answers.map((answer) => answer.status)).toEqual([...Array(5).fill(401), ...Array(10).fill(429)]);
    for (const refused of answers.slice(5))
      expect(expectRefused(refused, /sign-in attempts/)).toBeLessThanOrEqual(2);

    // Locked: the right password gets exactly the wrong one's answer — no oracle.
    const right = await login(email, PASSWORD, attacker);
    const wrong = await login(email, "another wrong guess", attacker);
    expectRefused(right, /sign-in attempts/);
    expect(comparable(right)).toEqual(comparable(wrong));

    await sleep(2100);
    const after = await login(email, PASSWORD, attacker);
    expect(after.status).toBe(200);
    expect(after.body.tokenType).toBe("Bearer");

    // Recorded for admins: the failures, the lock (before any scrypt), every refused attempt.
    expect(await audit("auth.login-failed", email)).toHaveLength(5);
    const [lock, ...moreLocks] = await audit("auth.login-locked", email);
    expect(moreLocks).toEqual([]);
    expect(lock?.details).toEqual({ ip: attacker, limit: "account", seconds: 2, strike: 1 });
    const refused = await audit("auth.login-refused", email);
    expect(refused).toHaveLength(12);
    expect(refused[0]).toEqual({
      actor: "anonymous",
      details: { ip: attacker, limit: "account", retryAfterSeconds: 2 },
    });
  });

  it("the owner on their own address is not locked out by an attacker's failures on another", async () => {
    const [attacker, victim] = [newAddress(), newAddress()];
    const email = await signUp(victim);
    for (let guess = 0; guess < 7; guess++) await login(email, `wrong ${guess}`, attacker);
    expectRefused(await login(email, PASSWORD, attacker), /sign-in/);
    // The victim's own address has its own budget: a typo, then the right password.
    expect((await login(email, "a typo", victim)).status).toBe(401);
    expect((await login(email, PASSWORD, victim)).status).toBe(200);
    // An IPv6 attacker is counted by its /64: rotating addresses inside it does not help.
    const answers: number[] = [];
    for (let guess = 0; guess < 6; guess++)
      answers.push((await login(email, `wrong ${guess}`, `2001:db8:77:1::${guess + 1}`)).status);
    expect(answers).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("counts unknown emails like existing ones: the lock does not tell whether an account exists", async () => {
    const known = await signUp(newAddress());
    const unknown = `nobody-${randomUUID()}@example.com`;
    const run = async (email: string, attacker: string) => {
      const statuses: number[] = [];
      for (let guess = 0; guess < 6; guess++)
        statuses.push((await login(email, `wrong ${guess}`, attacker)).status);
      return { statuses, locked: comparable(await login(email, PASSWORD, attacker)) };
    };
    const [first, second] = [newAddress(), newAddress()];
    expect(await run(known, first)).toEqual(await run(unknown, second));
    // The same account whatever the email's case.
    expectRefused(await login(unknown.toUpperCase(), "x", second), /sign-in/);
  });

  it("admits no more than the budget to password checking, however concurrent the guesses", async () => {
    const attacker = newAddress();
    const email = await signUp(newAddress());
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, guess) => login(email, `wrong ${guess}`, attacker)),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
    expect(await audit("auth.login-failed", email)).toHaveLength(5);
  });
});

describe.concurrent("login limits, the growing lock", () => {
  // Locks of 1 s, doubling up to 2 s: the shortest there are, as this test waits each one out.
  let growing: Users;
  beforeAll(async () => {
    growing = await Users.start({
      ...SETTINGS,
      USERS_LOGIN_LOCK_SECONDS: "1",
      USERS_LOGIN_LOCK_MAX_SECONDS: "2",
    });
  }, 60_000);
  afterAll(async () => {
    await growing?.stop();
  });

  it("locks again for twice as long, up to the cap; a success from the address clears the history", async () => {
    expect([1, 2, 3, 4, 40].map((strike) => lockSeconds(strike, 60, 900))).toEqual([60, 120, 240, 480, 900]);
    const attacker = newAddress();
    const email = await growing.signUp(newAddress());
    const fail = async (times: number) => {
      for (let guess = 0; guess < times; guess++)
        expect((await growing.login(email, `wrong ${guess}`, attacker)).status).toBe(401);
    };
    await fail(5);
    expect(expectRefused(await growing.login(email, "wrong", attacker), /sign-in/)).toBe(1);
    await sleep(1100);
    await fail(5);
    expect(expectRefused(await growing.login(email, "wrong", attacker), /sign-in/)).toBe(2);
    await sleep(2100);
    await fail(5);
    // Capped at USERS_LOGIN_LOCK_MAX_SECONDS (2), not 4.
    expect(expectRefused(await growing.login(email, "wrong", attacker), /sign-in/)).toBe(2);
    expect((await growing.audit("auth.login-locked", email)).map((entry) => entry.details)).toEqual([
      { ip: attacker, limit: "account", seconds: 1, strike: 1 },
      { ip: attacker, limit: "account", seconds: 2, strike: 2 },
      { ip: attacker, limit: "account", seconds: 2, strike: 3 },
    ]);

    await sleep(2100);
    expect((await growing.login(email, PASSWORD, attacker)).status).toBe(200);
    // The success reset the count and the doubling: five more tries, then the first lock's length.
    await fail(5);
    expect(expectRefused(await growing.login(email, "wrong", attacker), /sign-in/)).toBe(1);
    expect((await growing.audit("auth.login-locked", email)).at(-1)?.details).toMatchObject({
      seconds: 1,
      strike: 1,
    });
  }, 90_000);
});

describe.concurrent("login limits on low account-wide and per-address budgets", () => {
  // One instance for both tests below: each stays well within the budget the other one tests.
  let narrow: Users;
  beforeAll(async () => {
    narrow = await Users.start({
      ...SETTINGS,
      USERS_LOGIN_ACCOUNT_MAX_FAILURES: "6",
      USERS_LOGIN_ADDRESS_MAX_FAILURES: "4",
    });
  }, 60_000);
  afterAll(async () => {
    await narrow?.stop();
  });

  describe("per account from every address", () => {
    it("a guesser on many addresses (or choosing its address) gets 6 guesses a window; the owner's known address still signs in", async () => {
      const owner = newAddress();
      const email = await narrow.signUp(owner);
      expect((await narrow.login(email, PASSWORD, owner)).status).toBe(200);
      // Six guesses from six addresses: each within its own pair budget, all counted for the account.
      for (let guess = 0; guess < 6; guess++)
        expect((await narrow.login(email, `wrong ${guess}`, newAddress())).status).toBe(401);
      // The seventh, from yet another address, is refused before the password is checked: even the right one.
      expectRefused(await narrow.login(email, PASSWORD, newAddress()), /sign-in/);
      // The owner, from the address they signed in from, is not kept out.
      expect((await narrow.login(email, PASSWORD, owner)).status).toBe(200);
      // On a new device, the owner waits for the window like anybody else.
      expectRefused(await narrow.login(email, PASSWORD, newAddress()), /sign-in/);
    });
  });

  describe("per client address across accounts", () => {
    it("refuses every login from an address past 4 failures, whatever the accounts; successes do not count; other addresses go on", async () => {
      const stuffer = newAddress();
      const email = await narrow.signUp(newAddress());
      for (let attempt = 0; attempt < 3; attempt++) {
        const answer = await narrow.login(`victim-${attempt}-${randomUUID()}@example.com`, "leaked", stuffer);
        expect(answer.status).toBe(401);
      }
      // A success from the address is not a failure: one failure left.
      expect((await narrow.login(email, PASSWORD, stuffer)).status).toBe(200);
      const last = `last-${randomUUID()}@example.com`;
      expect((await narrow.login(last, "leaked", stuffer)).status).toBe(401);
      // That fourth failure locked the address: recorded, with how long it lasts at most.
      expect((await narrow.audit("auth.login-locked", last)).map((entry) => entry.details)).toEqual([
        { ip: stuffer, limit: "address", seconds: 60 },
      ]);
      // Then refused before any check, the right password of an account too.
      expect(expectRefused(await narrow.login(email, PASSWORD, stuffer), /sign-in attempts/)).toBeGreaterThan(
        50,
      );
      const fresh = `fresh-${randomUUID()}@example.com`;
      expect(expectRefused(await narrow.login(fresh, "x", stuffer), /sign-in/)).toBeGreaterThan(50);
      const [refused] = await narrow.audit("auth.login-refused", email);
      expect(refused?.details).toMatchObject({ ip: stuffer, limit: "address" });
      // Another address is not concerned.
      expect((await narrow.login(email, PASSWORD, newAddress())).status).toBe(200);
    });
  });
});

describe.concurrent("sign-up limits", () => {
  it("takes 3 sign-ups per address in the window (a taken email counts), then 429 with Retry-After before hashing; other addresses go on", async () => {
    const from = newAddress();
    const email = await signUp(from);
    expect((await post("/api/users", { email, password: PASSWORD, name: "Ann" }, from)).status).toBe(409);
    await signUp(from);
    const refused = await post(
      "/api/users",
      { email: `x-${randomUUID()}@example.com`, password: PASSWORD, name: "X" },
      from,
    );
    const retryAfter = expectRefused(refused, /sign-ups from this address/);
    expect(retryAfter).toBeLessThanOrEqual(3);
    // Validation comes first: a malformed body is a 400 even from an address past its budget.
    expect(
      (await post("/api/users", { email: "not an email", password: PASSWORD, name: "X" }, from)).status,
    ).toBe(400);
    await signUp(newAddress());
    // The window ends: the address signs up again.
    await sleep(retryAfter * 1000 + 100);
    await signUp(from);
  });
});

describe.concurrent("the client address", () => {
  it("is the connection's peer, or the client a trusted proxy (USERS_TRUSTED_PROXIES) names in X-Forwarded-For", async () => {
    const email = `nobody-${randomUUID()}@example.com`;
    const direct = newAddress();
    // An untrusted caller cannot choose its address with the header.
    await post("/api/auth/login", { email, password: "x" }, direct, { "x-forwarded-for": "203.0.113.200" });
    // The trusted proxy (the gateway) appends the client it saw; what the client sent before it is not believed.
    await post("/api/auth/login", { email, password: "x" }, "10.9.9.9", {
      "x-forwarded-for": "192.0.2.1, 203.0.113.77",
    });
    expect((await audit("auth.login-failed", email)).map((entry) => entry.details.ip)).toEqual([
      direct,
      "203.0.113.77",
    ]);
  });
});
