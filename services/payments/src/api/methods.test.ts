import { randomUUID } from "node:crypto";
import { type ServiceUnderTest, startServiceForTest } from "@blossom/testkit";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CardDetails, TokenizedCard } from "../domain/payment-provider.js";
import { TestPaymentProvider } from "../providers/test-provider.js";
import { createPaymentsService } from "../service.js";
import type { PaymentsSettingsSchema } from "../settings.js";
import type { PaymentsTables } from "../store/tables.js";

interface MethodView {
  id: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

interface Problem {
  type: string;
  status: number;
  detail?: string;
  errors?: Array<{ in: string; pointer: string; message: string }>;
}

const YEAR = new Date().getUTCFullYear();
// Distinctive values, so finding them anywhere means they leaked.
const NUMBER = "4111111111111111";
const CVC = "739";
const card = (overrides: Record<string, unknown> = {}) => ({
  cardNumber: NUMBER,
  expMonth: 12,
  expYear: YEAR + 3,
  cvc: CVC,
  ...overrides,
});

let payments: ServiceUnderTest<PaymentsTables, PaymentsSettingsSchema>;

/** Tokenizes slowly, so that concurrent requests with one key overlap between lookup and commit. */
class SlowTokenizer extends TestPaymentProvider {
  override async tokenize(card: CardDetails): Promise<TokenizedCard> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return super.tokenize(card);
  }
}

beforeAll(async () => {
  payments = await startServiceForTest(createPaymentsService({ provider: () => new SlowTokenizer() }), {
    logLevel: "trace",
  });
});

afterAll(async () => {
  await payments?.close();
});

async function everyRow(): Promise<string> {
  const db = payments.host.store.db;
  const { rows: tables } = await sql<{ tablename: string }>`
    select tablename from pg_tables where schemaname = current_schema()`.execute(db);
  const dump: Record<string, unknown> = {};
  for (const { tablename } of tables) {
    const { rows } = await sql`select * from ${sql.table(tablename)}`.execute(db);
    dump[tablename] = rows;
  }
  return JSON.stringify(dump);
}

describe("POST /api/payments/methods", () => {
  it("saves a card as brand, last 4 and expiry, and keeps the number and cvc nowhere", async () => {
    const token = await payments.token(randomUUID());
    const created = await payments.call<MethodView>("POST", "/api/payments/methods", { token, body: card() });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      brand: "visa",
      last4: "1111",
      expMonth: 12,
      expYear: YEAR + 3,
    });
    expect(Object.keys(created.body).sort()).toEqual(["brand", "expMonth", "expYear", "id", "last4"]);

    const dump = await everyRow();
    expect(dump).toContain(created.body.id);
    expect(dump).not.toContain(NUMBER);
    expect(dump).not.toContain(NUMBER.slice(0, 12));
    expect(dump).not.toContain(`"${CVC}"`);
    expect(dump).not.toMatch(/cvc|card_number/i);

    const logs = payments.logLines.join("\n");
    expect(logs).toContain("payment method saved");
    expect(logs).not.toContain(NUMBER);
    expect(logs).not.toContain(NUMBER.slice(0, 12));
    // A bare 3-digit needle also matches timestamps, ports and ids: look for it as a logged
    // string value, and for the field itself.
    expect(logs).not.toContain(`"${CVC}"`);
    expect(logs).not.toMatch(/"cvc"/);
  });

  it("refuses a card that fails the Luhn check, has non-digits, has expired or a bad cvc, naming the field", async () => {
    const token = await payments.token(randomUUID());
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ cardNumber: "4111111111111112" }, "/cardNumber"],
      [{ cardNumber: "4111 1111 1111 1111" }, "/cardNumber"],
      [{ cardNumber: "4111-1111-1111-111x" }, "/cardNumber"],
      [{ cardNumber: "41111111" }, "/cardNumber"],
      [{ expYear: YEAR - 1 }, "/expYear"],
      [{ expMonth: 13 }, "/expMonth"],
      ...(new Date().getUTCMonth() > 0
        ? [
            [{ expMonth: new Date().getUTCMonth(), expYear: YEAR }, "/expMonth"] as [
              Record<string, unknown>,
              string,
            ],
          ]
        : []),
      [{ cvc: "12" }, "/cvc"],
      [{ cvc: "12a" }, "/cvc"],
    ];
    for (const [overrides, pointer] of cases) {
      const answer = await payments.call<Problem>("POST", "/api/payments/methods", {
        token,
        body: card(overrides),
      });
      expect(answer.status, JSON.stringify(overrides)).toBe(400);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(answer.body.type).toBe("https://blossom.dev/problems/validation-error");
      expect(
        answer.body.errors?.map((error) => error.pointer),
        JSON.stringify(overrides),
      ).toEqual([pointer]);
      expect(JSON.stringify(answer.body)).not.toContain("41111111");
    }
    const missing = await payments.call<Problem>("POST", "/api/payments/methods", {
      token,
      body: { cardNumber: NUMBER, expMonth: 1 },
    });
    expect(missing.status).toBe(400);
    expect(payments.logLines.join("\n")).not.toContain("4111111111111112");
  });

  it("answers 401 without a token, and with a token that is not valid", async () => {
    const anonymous = await payments.call<Problem>("POST", "/api/payments/methods", { body: card() });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.type).toBe("https://blossom.dev/problems/unauthorized");
    const forged = await payments.call("POST", "/api/payments/methods", { body: card(), token: "a.b.c" });
    expect(forged.status).toBe(401);
    expect((await payments.call("GET", "/api/payments/methods")).status).toBe(401);
  });
});

describe("Idempotency-Key", () => {
  it("answers a replay with the same method, and a different body under the same key with 422", async () => {
    const token = await payments.token(randomUUID());
    const headers = { "idempotency-key": `key-${randomUUID()}` };
    const first = await payments.call<MethodView>("POST", "/api/payments/methods", {
      token,
      body: card(),
      headers,
    });
    expect(first.status).toBe(201);
    const replay = await payments.call<MethodView>("POST", "/api/payments/methods", {
      token,
      body: card(),
      headers,
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(first.body);

    for (const different of [
      card({ cardNumber: "4242424242424242" }),
      card({ expYear: YEAR + 4 }),
      card({ expMonth: 11 }),
    ]) {
      const conflict = await payments.call<Problem>("POST", "/api/payments/methods", {
        token,
        body: different,
        headers,
      });
      expect(conflict.status).toBe(422);
      expect(conflict.body.type).toBe("https://blossom.dev/problems/idempotency-key-reused");
    }

    const list = await payments.call<{ items: MethodView[] }>("GET", "/api/payments/methods", { token });
    expect(list.body.items).toEqual([first.body]);
  });

  it("makes one method of concurrent requests with one key", async () => {
    const token = await payments.token(randomUUID());
    const headers = { "idempotency-key": randomUUID() };
    const answers = await Promise.all(
      [1, 2, 3].map(() =>
        payments.call<MethodView>("POST", "/api/payments/methods", { token, body: card(), headers }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    const list = await payments.call<{ items: MethodView[] }>("GET", "/api/payments/methods", { token });
    expect(list.body.items).toHaveLength(1);
  });

  it("scopes keys to the user, makes a new method without a key, and refuses a malformed key", async () => {
    const key = { "idempotency-key": randomUUID() };
    const ann = await payments.token(randomUUID());
    const bob = await payments.token(randomUUID());
    const a = await payments.call<MethodView>("POST", "/api/payments/methods", {
      token: ann,
      body: card(),
      headers: key,
    });
    const b = await payments.call<MethodView>("POST", "/api/payments/methods", {
      token: bob,
      body: card(),
      headers: key,
    });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);

    const c = await payments.call<MethodView>("POST", "/api/payments/methods", { token: ann, body: card() });
    expect(c.status).toBe(201);
    expect(c.body.id).not.toBe(a.body.id);

    const bad = await payments.call<Problem>("POST", "/api/payments/methods", {
      token: ann,
      body: card(),
      headers: { "idempotency-key": "x".repeat(256) },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.pointer).toBe("/idempotency-key");
  });
});

describe("GET /api/payments/methods", () => {
  it("lists only the caller's methods, newest first, page by page", async () => {
    const token = await payments.token(randomUUID());
    const other = await payments.token(randomUUID());
    await payments.call("POST", "/api/payments/methods", { token: other, body: card() });
    const ids: string[] = [];
    for (const number of ["4242424242424242", "5555555555554444", "378282246310005"]) {
      const body = card({ cardNumber: number, cvc: number.startsWith("37") ? "1234" : "123" });
      const created = await payments.call<MethodView>("POST", "/api/payments/methods", { token, body });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const first = await payments.call<{ items: MethodView[]; nextCursor: string | null }>(
      "GET",
      "/api/payments/methods?limit=2",
      { token },
    );
    expect(first.status).toBe(200);
    expect(first.body.items.map((item) => item.brand)).toEqual(["amex", "mastercard"]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await payments.call<{ items: MethodView[]; nextCursor: string | null }>(
      "GET",
      `/api/payments/methods?limit=2&cursor=${first.body.nextCursor}`,
      { token },
    );
    expect(second.body.items.map((item) => item.last4)).toEqual(["4242"]);
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.items, ...second.body.items].map((item) => item.id).sort()).toEqual(ids.sort());

    const tampered = await payments.call("GET", "/api/payments/methods?cursor=nonsense", { token });
    expect(tampered.status).toBe(400);
  });
});
