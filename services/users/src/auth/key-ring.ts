import { TOKEN_ALGORITHM } from "@blossom/auth";
import type { Logger } from "@blossom/runtime";
import {
  CompactSign,
  type CryptoKey,
  calculateJwkThumbprint,
  compactVerify,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from "jose";
import { type Ed25519PrivateJwk, type Ed25519PublicJwk, publicPart } from "../domain/signing-key.js";
import { currentKey, isPublished } from "../domain/token-policy.js";
import {
  findSigningKey,
  insertSigningKey,
  listSigningKeys,
  retireOtherKeys,
  type SigningKeyRow,
} from "../store/signing-keys-store.js";
import type { UsersDb } from "../store/users-store.js";

/** A key as published at `/.well-known/jwks.json`. */
export interface PublishedJwk extends Ed25519PublicJwk {
  kid: string;
  alg: typeof TOKEN_ALGORITHM;
  use: "sig";
}

/** What signs a token: its key id (the JWT header's `kid`) and the private key. */
export interface Signer {
  kid: string;
  key: CryptoKey;
}

export interface KeyRingOptions {
  db: UsersDb;
  logger: Logger;
  environment: string;
  accessTokenTtlSeconds: number;
  /** The key from USERS_SIGNING_KEY, if any: then it signs, and no key is ever generated. */
  configuredKey: Ed25519PrivateJwk | undefined;
}

/** A key id that follows from the key itself (RFC 7638 thumbprint), so every replica agrees on it. */
async function kidOf(jwk: Ed25519PublicJwk & { kid?: string }): Promise<string> {
  return jwk.kid ?? (await calculateJwkThumbprint(publicPart(jwk) as JWK, "sha256"));
}

async function importPrivate(jwk: Ed25519PrivateJwk): Promise<CryptoKey> {
  const { kid: _kid, ...material } = jwk;
  return (await importJWK({ ...material, alg: TOKEN_ALGORITHM }, TOKEN_ALGORITHM)) as CryptoKey;
}

/** A new Ed25519 key pair as JWKs, with its thumbprint as key id. */
export async function generateSigningKey(): Promise<{ kid: string; jwk: Ed25519PrivateJwk }> {
  const { privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { crv: "Ed25519", extractable: true });
  const exported = await exportJWK(privateKey);
  if (exported.kty !== "OKP" || exported.crv !== "Ed25519" || !exported.x || !exported.d) {
    throw new Error("the generated key is not an Ed25519 key");
  }
  const jwk: Ed25519PrivateJwk = { kty: "OKP", crv: "Ed25519", x: exported.x, d: exported.d };
  return { kid: await kidOf(jwk), jwk };
}

/**
 * Generates a key, stores it (private half included) and retires every other active key, in one
 * transaction: new tokens are signed with it at once, by every replica; tokens signed with the
 * retired keys keep verifying while they can live. Development and operations only: in
 * production the key comes from USERS_SIGNING_KEY, and rotating means changing that setting.
 */
export async function rotateSigningKey(db: UsersDb, now = new Date()): Promise<string> {
  const { kid, jwk } = await generateSigningKey();
  await db.transaction().execute(async (trx) => {
    await insertSigningKey(trx, {
      kid,
      publicJwk: JSON.stringify(publicPart(jwk)),
      privateJwk: JSON.stringify(jwk),
      createdAt: now,
    });
    await retireOtherKeys(trx, kid, now);
  });
  return kid;
}

/**
 * The signing keys of the service: which one signs new access tokens, and which ones are
 * published for verifiers (the current one and the retired ones whose tokens may still be valid).
 * State lives in the `signing_keys` table, so replicas and restarts agree; only imported keys
 * are cached in memory.
 */
export class KeyRing {
  #options: KeyRingOptions;
  #configured: (Signer & { publicJwk: Ed25519PublicJwk }) | undefined;
  #imported = new Map<string, CryptoKey>();

  private constructor(options: KeyRingOptions) {
    this.#options = options;
  }

  /** Loads the configured key, or (outside production) makes sure a generated key exists. */
  static async open(options: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(options);
    if (options.configuredKey) await ring.#useConfigured(options.configuredKey);
    else if (options.environment === "production") {
      throw new Error("USERS_SIGNING_KEY is required in production: no signing key is generated there");
    } else await ring.#ensureGenerated();
    return ring;
  }

  async #useConfigured(jwk: Ed25519PrivateJwk): Promise<void> {
    const { db, logger } = this.#options;
    const kid = await kidOf(jwk);
    const key = await importPrivate(jwk).catch(() => {
      throw new Error(
        'USERS_SIGNING_KEY cannot be used as an Ed25519 private key (do its "x" and "d" belong together?)',
      );
    });
    await assertPair(key, jwk);
    this.#configured = { kid, key, publicJwk: publicPart(jwk) };
    // Only the public half is stored: the private one stays where it was configured.
    const added = await db.transaction().execute(async (trx) => {
      if (await findSigningKey(trx, kid)) return false;
      const now = new Date();
      await insertSigningKey(trx, {
        kid,
        publicJwk: JSON.stringify(publicPart(jwk)),
        privateJwk: null,
        createdAt: now,
      });
      await retireOtherKeys(trx, kid, now);
      return true;
    });
    if (added) logger.info({ kid }, "signing key from USERS_SIGNING_KEY installed; other keys retired");
  }

  async #ensureGenerated(): Promise<void> {
    const { db, logger } = this.#options;
    if (await this.#currentStored()) return;
    const kid = await rotateSigningKey(db);
    logger.info({ kid }, "signing key generated and stored (development)");
  }

  /** The key that signs now: the configured one, else the newest active stored one. */
  async signer(): Promise<Signer> {
    if (this.#configured) return { kid: this.#configured.kid, key: this.#configured.key };
    const row = await this.#currentStored();
    if (!row?.private_jwk) throw new Error("no active signing key: rotate one in");
    let key = this.#imported.get(row.kid);
    if (!key) {
      key = await importPrivate(JSON.parse(row.private_jwk) as Ed25519PrivateJwk);
      this.#imported.set(row.kid, key);
    }
    return { kid: row.kid, key };
  }

  /** The newest active key whose private half the database holds (a generated one). */
  async #currentStored(): Promise<SigningKeyRow | undefined> {
    const rows = await listSigningKeys(this.#options.db);
    const stored = rows.filter((row) => row.private_jwk !== null).map((row) => ({ row, ...toLifetime(row) }));
    return currentKey(stored)?.row;
  }

  /** The published key set: public halves only, newest first. */
  async jwks(now = new Date()): Promise<{ keys: PublishedJwk[] }> {
    const rows = await listSigningKeys(this.#options.db);
    const keys = rows
      .filter((row) => isPublished(toLifetime(row), now, this.#options.accessTokenTtlSeconds))
      .map((row) => published(row.kid, JSON.parse(row.public_jwk) as Ed25519PublicJwk));
    // The key this process signs with is always listed, whatever another replica retired.
    const own = this.#configured;
    if (own && !keys.some((key) => key.kid === own.kid)) keys.unshift(published(own.kid, own.publicJwk));
    return { keys };
  }
}

function toLifetime(row: SigningKeyRow) {
  return { createdAt: new Date(row.created_at), retiredAt: row.retired_at ? new Date(row.retired_at) : null };
}

function published(kid: string, jwk: Ed25519PublicJwk): PublishedJwk {
  return { ...publicPart(jwk), kid, alg: TOKEN_ALGORITHM, use: "sig" };
}

/** Refuses a configured key whose public half does not belong to its private half. */
async function assertPair(privateKey: CryptoKey, jwk: Ed25519PrivateJwk): Promise<void> {
  const publicKey = await importJWK({ ...publicPart(jwk), alg: TOKEN_ALGORITHM }, TOKEN_ALGORITHM);
  const probe = await new CompactSign(new TextEncoder().encode("blossom signing key probe"))
    .setProtectedHeader({ alg: TOKEN_ALGORITHM })
    .sign(privateKey);
  try {
    await compactVerify(probe, publicKey, { algorithms: [TOKEN_ALGORITHM] });
  } catch {
    throw new Error('USERS_SIGNING_KEY: its public part ("x") does not match its private part ("d")');
  }
}
