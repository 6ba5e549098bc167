import { randomUUID } from "node:crypto";
import {
  callHttp,
  type HttpAnswer,
  type TestSigningKey,
  type TokenClaims,
  testSigningKey,
} from "@blossom/testkit";
import { startTestPlatform, type TestPlatform } from "../support/embedded-platform.js";
import { ShopClient, type Tokens } from "../support/shop-client.js";

/**
 * Shared set-up of the OWASP-API-Top-10-style suite: a platform whose users service signs with a
 * key this suite holds (so it can mint expired and otherwise wrong tokens that carry a valid
 * signature), and every check run through two doors — the gateway, and the owning service's own
 * port, as a caller inside the network would reach it. The services verify and authorize
 * themselves; the gateway is not their only guard.
 */

export const ADMIN_PASSWORD = "admin password of the security suite";
export const SERVICES = ["users", "inventory", "orders", "payments", "notifications"] as const;
export type ServiceName = (typeof SERVICES)[number];

/** A way in: the gateway, or a service's own port. */
export interface Door {
  name: string;
  base: string;
}

export interface SecurityPlatform {
  platform: TestPlatform;
  gateway: string;
  /** The key the users service signs access tokens with. */
  key: TestSigningKey;
  service(name: ServiceName): string;
  /** The gateway and the owning service's port. */
  doors(name: ServiceName): Door[];
  destroy(): Promise<void>;
}

export async function startSecurityPlatform(
  env: Record<string, string> = {},
  names?: string[],
): Promise<SecurityPlatform> {
  const key = await testSigningKey("security-suite-key");
  const platform = await startTestPlatform(
    { USERS_SIGNING_KEY: JSON.stringify(key.privateJwk), BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env },
    undefined,
    names,
  );
  const service = (name: ServiceName) => {
    const url = platform.urls.get(name);
    if (!url) throw new Error(`${name} is not running`);
    return url;
  };
  return {
    platform,
    gateway: platform.gateway,
    key,
    service,
    doors: (name) => [
      { name: "through the gateway", base: platform.gateway },
      { name: `straight to the ${name} service`, base: service(name) },
    ],
    destroy: () => platform.destroy(),
  };
}

/**
 * A customer who signed up and logged in straight at the users service (set-up, not under test:
 * no gateway timeout on a slow machine's password hashing), then shops through the gateway.
 */
export async function signUpCustomer(sp: SecurityPlatform, name: string): Promise<ShopClient> {
  const users = sp.service("users");
  const email = `${name.toLowerCase()}-${randomUUID()}@example.com`;
  const password = "correct horse battery";
  const created = await callHttp(users, "POST", "/api/users", { body: { email, password, name } });
  if (created.status !== 201)
    throw new Error(`sign-up failed: ${created.status} ${JSON.stringify(created.body)}`);
  const login = await callHttp<Tokens>(users, "POST", "/api/auth/login", { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return new ShopClient(sp.gateway, login.body);
}

/** A request with a bearer token, to any door. */
export function callAs<T = unknown>(
  token: string,
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer<T>> {
  return callHttp<T>(base, method, path, { body, headers: { authorization: `Bearer ${token}`, ...headers } });
}

/** An EdDSA token signed with `key`, with the Blossom claims (a customer's) unless overridden. */
export function signToken(key: TestSigningKey, claims: TokenClaims, kid = key.kid): Promise<string> {
  return key.sign({ ...claims, role: claims.role ?? "customer" }, kid);
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** The token with its payload changed and its signature kept (so it no longer matches). */
export function tamperPayload(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  return [header, base64url({ ...decodePart(payload), ...changes }), signature].join(".");
}

/** The token's claims, unsigned: `alg: none` and an empty signature. */
export function unsignedCopy(token: string): string {
  const [, payload] = token.split(".") as [string, string];
  return `${base64url({ alg: "none", typ: "JWT" })}.${payload}.`;
}

export function claimsOf(token: string): Record<string, unknown> {
  const [, payload] = token.split(".") as [string, string];
  return decodePart(payload);
}
