import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BlossomProcess,
  callHttp,
  eventually,
  freePort,
  type HttpAnswer,
  killAll,
  spawnBlossom,
  type TestSigningKey,
  testEnv,
  testSigningKey,
  waitForReady,
} from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADDRESS, type Order, type Product } from "../support/shop-client.js";
import { ADMIN_PASSWORD, type Door } from "./security-platform.js";

/**
 * OWASP API3 (excessive data exposure): the platform runs as `blossom start` does, in its own
 * process with every log line at trace level captured; customers sign up, log in (and fail to),
 * refresh, save cards (good, bad and malformed), order and read everything back, through the
 * gateway and straight at the services. No answer carries a password, a password hash, a full
 * card number, a cvc or a private key; no log line carries those or an access or refresh token.
 */
const PASSWORDS = [
  "ann secret passphrase",
  "bob secret passphrase",
  "wrong guess passphrase",
  ADMIN_PASSWORD,
];
const CARDS = [
  { cardNumber: "4242424242424242", cvc: "739" },
  { cardNumber: "378282246310005", cvc: "7391" },
  { cardNumber: "4000000000000002", cvc: "482" },
];
/** Refused cards: a number that fails the Luhn check, and a cvc of the wrong length. */
const BAD_CARDS = [
  { cardNumber: "4242424242424241", cvc: "739" },
  { cardNumber: "5555555555554444", cvc: "61" },
];
const ALL_CARD_NUMBERS = [...CARDS, ...BAD_CARDS].map((card) => card.cardNumber);
const ALL_CVCS = [...CARDS, ...BAD_CARDS].map((card) => card.cvc);
/** Keys no answer may have, at any depth. */
const FORBIDDEN_KEYS = [
  "password",
  "passwordHash",
  "password_hash",
  "cardNumber",
  "card_number",
  "number",
  "cvc",
  "token",
  "d",
  "privateJwk",
  "private_jwk",
];

let dir: string;
let key: TestSigningKey;
let blossom: BlossomProcess;
const processes: BlossomProcess[] = [];
const urls = new Map<string, string>();
const answers: Array<{ what: string; answer: HttpAnswer; text: string }> = [];
/** Every access and refresh token the platform issued during the run. */
const issuedTokens = new Set<string>();

/** A real request, recorded with its raw answer for the exposure checks. */
async function recorded<T = unknown>(
  what: string,
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer<T>> {
  const answer = await callHttp<T>(base, method, path, { body, headers });
  const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? "");
  answers.push({ what: `${method} ${path} (${what})`, answer, text });
  for (const name of ["accessToken", "refreshToken"] as const) {
    const value = (answer.body as Record<string, unknown> | undefined)?.[name];
    if (typeof value === "string") issuedTokens.add(value);
  }
  return answer;
}

function doors(service: string): Door[] {
  return [
    { name: "gateway", base: urls.get("gateway") ?? "" },
    { name: service, base: urls.get(service) ?? "" },
  ];
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Every key and string value of a parsed JSON value, at any depth. */
function walk(value: unknown, visit: (key: string | undefined, value: unknown) => void, key?: string): void {
  visit(key, value);
  if (value && typeof value === "object")
    for (const [childKey, child] of Object.entries(value))
      walk(child, visit, Array.isArray(value) ? undefined : childKey);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "blossom-security-"));
  key = await testSigningKey("exposure-suite-key");
  blossom = spawnBlossom(["start"], {
    ...testEnv(await freePort()),
    BLOSSOM_DATA_DIR: dir,
    NODE_ENV: "test",
    BLOSSOM_SEED: "true",
    LOG_LEVEL: "trace",
    USERS_SIGNING_KEY: JSON.stringify(key.privateJwk),
    BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
  processes.push(blossom);
  await waitForReady(blossom, 170_000);
  const table = blossom.output().split("Blossom is ready")[1] ?? "";
  for (const match of table.matchAll(/^\s+(\w+)\s+(http:\/\/[\d.:]+)/gm))
    if (match[1] && match[2]) urls.set(match[1], match[2]);
  expect([...urls.keys()].sort()).toEqual([
    "gateway",
    "inventory",
    "notifications",
    "orders",
    "payments",
    "users",
  ]);
}, 180_000);

afterAll(async () => {
  await killAll(processes);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("API3: excessive data exposure, in answers and in log lines", () => {
  it("runs sign-ups, logins, refreshes, cards, orders and reads through both doors", async () => {
    const gateway = urls.get("gateway") ?? "";
    const [annPassword, bobPassword, wrongPassword] = PASSWORDS as [string, string, string];
    const ann = { email: `ann-${randomUUID()}@example.com`, password: annPassword, name: "Ann" };
    const bob = { email: `bob-${randomUUID()}@example.com`, password: bobPassword, name: "Bob" };
    const [gatewayDoor, usersDoor] = doors("users") as [Door, Door];
    expect((await recorded("sign-up", gatewayDoor.base, "POST", "/api/users", ann)).status).toBe(201);
    expect((await recorded("sign-up", usersDoor.base, "POST", "/api/users", bob)).status).toBe(201);
    // A password too short, and a malformed body that holds one: refused without repeating it.
    expect(
      (
        await recorded("short", gateway, "POST", "/api/users", {
          ...ann,
          email: "x@example.com",
          password: "short",
        })
      ).status,
    ).toBe(400);
    for (const door of doors("users")) {
      const malformed = `{"email":"${ann.email}","password":"${annPassword}",`;
      expect((await recorded(door.name, door.base, "POST", "/api/auth/login", malformed)).status).toBe(400);
      const wrong = await recorded(door.name, door.base, "POST", "/api/auth/login", {
        email: ann.email,
        password: wrongPassword,
      });
      expect(wrong.status).toBe(401);
    }

    const sessions: Record<string, { accessToken: string; refreshToken: string }> = {};
    for (const [who, account] of [
      ["ann", ann],
      ["bob", bob],
      ["admin", { email: "admin@blossom.local", password: ADMIN_PASSWORD }],
    ] as const) {
      for (const door of doors("users")) {
        const login = await recorded<{ accessToken: string; refreshToken: string }>(
          door.name,
          door.base,
          "POST",
          "/api/auth/login",
          { email: account.email, password: account.password },
        );
        expect(login.status, `${who} ${door.name}`).toBe(200);
        sessions[who] = login.body;
      }
    }
    const annSession = sessions.ann as { accessToken: string; refreshToken: string };
    const bobSession = sessions.bob as { accessToken: string; refreshToken: string };
    const refreshed = await recorded<{ accessToken: string; refreshToken: string }>(
      "refresh",
      usersDoor.base,
      "POST",
      "/api/auth/refresh",
      { refreshToken: bobSession.refreshToken },
    );
    expect(refreshed.status).toBe(200);
    // The spent refresh token again: refused (and its family revoked) without being echoed.
    expect(
      (
        await recorded("reuse", gateway, "POST", "/api/auth/refresh", {
          refreshToken: bobSession.refreshToken,
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await recorded("logout", gateway, "POST", "/api/auth/logout", {
          refreshToken: annSession.refreshToken,
        })
      ).status,
    ).toBe(204);
    for (const door of doors("users"))
      expect(
        (
          await recorded(
            door.name,
            door.base,
            "GET",
            "/api/users/me",
            undefined,
            bearer(annSession.accessToken),
          )
        ).status,
      ).toBe(200);
    expect((await recorded("jwks", gateway, "GET", "/.well-known/jwks.json")).status).toBe(200);

    const annAuth = bearer(annSession.accessToken);
    const expYear = new Date().getFullYear() + 3;
    const saved: string[] = [];
    for (const [index, card] of CARDS.entries()) {
      const door = doors("payments")[index % 2] as Door;
      const method = await recorded<{ id: string }>(
        door.name,
        door.base,
        "POST",
        "/api/payments/methods",
        { ...card, expMonth: 12, expYear },
        annAuth,
      );
      expect(method.status, card.cardNumber).toBe(201);
      saved.push(method.body.id);
    }
    for (const door of doors("payments")) {
      for (const card of BAD_CARDS) {
        const refused = await recorded(
          door.name,
          door.base,
          "POST",
          "/api/payments/methods",
          { ...card, expMonth: 12, expYear },
          annAuth,
        );
        expect(refused.status, card.cardNumber).toBe(400);
      }
      const malformed = `{"cardNumber":"${CARDS[0]?.cardNumber}","cvc":"${CARDS[0]?.cvc}","expMonth":12,`;
      expect(
        (await recorded(door.name, door.base, "POST", "/api/payments/methods", malformed, annAuth)).status,
      ).toBe(400);
      expect(
        (await recorded(door.name, door.base, "GET", "/api/payments/methods", undefined, annAuth)).status,
      ).toBe(200);
    }

    const catalog = await recorded<{ items: Product[] }>(
      "catalog",
      gateway,
      "GET",
      "/api/inventory/products?limit=1",
    );
    const item = catalog.body.items[0] as Product;
    const orders: string[] = [];
    for (const [index, door] of doors("orders").entries()) {
      const placed = await recorded<Order>(
        door.name,
        door.base,
        "POST",
        "/api/orders",
        {
          items: [{ productId: item.id, quantity: 1 }],
          paymentMethodId: saved[index === 0 ? 0 : 2],
          shippingAddress: ADDRESS,
        },
        { ...annAuth, "idempotency-key": randomUUID() },
      );
      expect(placed.status).toBe(202);
      orders.push(placed.body.id);
    }
    for (const order of orders) {
      await eventually(
        async () => {
          const read = await callHttp<Order>(gateway, "GET", `/api/orders/${order}`, { headers: annAuth });
          return read.body.status !== "pending" ? true : undefined;
        },
        10_000,
        `order ${order} to settle`,
      );
      for (const door of doors("orders"))
        await recorded(door.name, door.base, "GET", `/api/orders/${order}`, undefined, annAuth);
      for (const door of doors("payments"))
        await recorded(door.name, door.base, "GET", `/api/payments?orderId=${order}`, undefined, annAuth);
    }
    for (const door of doors("notifications"))
      await recorded(door.name, door.base, "GET", "/api/notifications", undefined, annAuth);
    const adminAuth = bearer((sessions.admin as { accessToken: string }).accessToken);
    for (const service of ["users", "orders", "payments"])
      for (const door of doors(service))
        expect(
          (await recorded(door.name, door.base, "GET", `/api/${service}/audit`, undefined, adminAuth)).status,
        ).toBe(200);
    // A forged token with a valid shape is refused without being logged either.
    expect(
      (
        await recorded(
          "forged",
          gateway,
          "GET",
          "/api/orders",
          undefined,
          bearer(`${annSession.accessToken}x`),
        )
      ).status,
    ).toBe(401);
    // Finding: a token sent in the query string was written to the gateway's access log whole.
    for (const door of doors("users")) {
      const answer = await fetch(`${door.base}/api/users/me?access_token=${sessions.ann?.accessToken}`);
      expect(answer.status, door.name).toBe(401);
    }
    expect(answers.length).toBeGreaterThan(40);
  });

  it("the gateway's /metrics is not on its public port (404) but on its internal listener", async () => {
    const gateway = urls.get("gateway") ?? "";
    const exposed = await fetch(`${gateway}/metrics`);
    expect(exposed.status).toBe(404);
    expect(await exposed.text()).not.toContain("process_resident_memory_bytes");
    const internal = /gateway metrics \(internal listener\): (http:\/\/[\d.:]+)\/metrics/.exec(
      blossom.output(),
    )?.[1];
    expect(internal).toBeDefined();
    expect(internal).not.toBe(gateway);
    const scraped = await fetch(`${internal}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^blossom_circuit_breaker_state\{/m);
  });

  it("no answer carries a password, a password hash, a full card number, a cvc or a private key", () => {
    const secrets = [...PASSWORDS, ...ALL_CARD_NUMBERS, "scrypt$", String(key.privateJwk.d)];
    for (const { what, text, answer } of answers) {
      for (const secret of secrets) expect(text.includes(secret), `${what} carries ${secret}`).toBe(false);
      walk(answer.body, (name, value) => {
        if (name !== undefined) expect(FORBIDDEN_KEYS, `${what} has a "${name}" member`).not.toContain(name);
        if (typeof value === "string") expect(ALL_CVCS, `${what} carries a cvc`).not.toContain(value);
      });
    }
  });

  it("no log line carries a password, a hash, an access or refresh token, a card number, a cvc or a private key", async () => {
    // Stop first: every line the platform will ever write about this run is then written.
    blossom.child.kill("SIGTERM");
    expect((await blossom.exited).code).toBe(0);
    const output = blossom.output();
    const lines = output.split("\n").filter((line) => line.startsWith("{"));
    // The capture works: the run's requests and the saved cards are in it.
    expect(lines.length).toBeGreaterThan(100);
    expect(output).toContain('"msg":"payment method saved"');
    expect(output).toContain('"url":"/api/auth/login"');
    const secrets = [...PASSWORDS, ...ALL_CARD_NUMBERS, ...issuedTokens, "scrypt$", String(key.privateJwk.d)];
    expect(issuedTokens.size).toBeGreaterThanOrEqual(8);
    for (const secret of secrets) {
      const leaking = lines.find((line) => line.includes(secret));
      expect(leaking, `a log line carries ${secret.slice(0, 24)}…`).toBeUndefined();
    }
    for (const line of lines) {
      walk(JSON.parse(line), (name, value) => {
        if (typeof value !== "string") return;
        if (name === "cvc" || name === "password") expect(value).toBe("[redacted]");
        expect(ALL_CVCS, `a log line carries a cvc: ${line.slice(0, 300)}`).not.toContain(value);
      });
    }
  });
});
