import { createHash } from "node:crypto";
import { addressBucket, type LimitStore, type Quota } from "@blossom/limits";
import type { UsersLimits } from "../settings.js";

/**
 * How long a run of locks is remembered for the doubling: a day after the last lock (sliding),
 * or until the account signs in from that address.
 */
const STRIKE_MEMORY_MS = 24 * 60 * 60 * 1000;

/**
 * How long an address the account signed in from stays "known" to it (sliding: every sign-in
 * renews it). A known address is exempt from the account-wide limit, so the owner is not kept out
 * by a guesser spread over many addresses.
 */
const KNOWN_ADDRESS_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Login limits, counted in a `LimitStore` (memory, or Redis shared by every replica).
 *
 * The balance (README "Login and sign-up limits"):
 *
 * - **Per account AND client address**: after `maxFailures` failed logins of one account (its
 *   normalized email, whether or not an account has it: the answers never tell) from one address
 *   within the window, that pair is locked for `lockSeconds`, doubled at each further lock (a
 *   day's memory) up to `maxLockSeconds`; then `maxFailures` more tries, and so on. A guesser on
 *   one address gets about `maxFailures` guesses per `maxLockSeconds`; the owner on their own
 *   address is never locked by someone else's failures, so a lock is never a way to keep a
 *   victim out. A successful login from the address clears its failures and its lock history.
 * - **Per address across accounts** (credential stuffing): `maxFailures` failed logins in the
 *   window, whatever the emails, then every login from the address is refused until the window
 *   ends. Successful logins do not count.
 * - **Per account, from every address** (a guesser spread over many addresses, or one that can
 *   choose its address): `accountMaxFailures` failed logins in the window, then only the addresses
 *   the account signed in from in the last 30 days may still try (each within its own pair
 *   budget) until the window ends. A guesser gets at most that many guesses per window whatever
 *   its addresses; the owner, on a device they used before, is never kept out by it; the owner on
 *   a new device waits at most one window.
 *
 * Attempts are admitted by reservation (`take`), before the password is checked: concurrent
 * guesses never get more than the budget verified, and a refused attempt costs no scrypt and
 * gets the same answer whether its password was right or wrong.
 */
export class LoginLimits {
  readonly #store: LimitStore;
  readonly #login: UsersLimits["login"];
  readonly #address: UsersLimits["loginAddress"];

  constructor(store: LimitStore, limits: Pick<UsersLimits, "login" | "loginAddress">) {
    this.#store = store;
    this.#login = limits.login;
    this.#address = limits.loginAddress;
  }

  /**
   * Admits one attempt (counting it as a failure until told otherwise), or refuses it while the
   * pair is locked or the address spent its failures.
   */
  async admit(email: string, address: string): Promise<LoginGate> {
    const client = addressBucket(address);
    const account = accountKey(email);
    const knownKey = `login:known:${account}:${client}`;
    const ticket: LoginTicket = {
      failuresKey: `login:failures:${account}:${client}`,
      strikesKey: `login:strikes:${account}:${client}`,
      addressKey: `login:address:${client}`,
      accountKey: `login:account:${account}`,
      knownKey,
      // An address the account signed in from is exempt from the account-wide budget.
      countsAccount: (await this.#store.count(knownKey)) === 0,
      accountCount: undefined,
      addressCount: undefined,
    };
    const loginWindowMs = this.#login.windowSeconds * 1000;
    // In this order: the pair's failures, the account's (unless exempt), the address's (last).
    const quotas: Quota[] = [
      { key: ticket.failuresKey, limit: this.#login.maxFailures, windowMs: loginWindowMs },
      ...(ticket.countsAccount
        ? [{ key: ticket.accountKey, limit: this.#login.accountMaxFailures, windowMs: loginWindowMs }]
        : []),
      {
        key: ticket.addressKey,
        limit: this.#address.maxFailures,
        windowMs: this.#address.windowSeconds * 1000,
      },
    ];
    const result = await this.#store.take(quotas);
    if (!result.taken) {
      const addressFull = result.full.includes(quotas.length - 1);
      return {
        admitted: false,
        retryAfterSeconds: Math.max(1, Math.ceil(result.retryAfterMs / 1000)),
        limit: addressFull && result.full.length === 1 ? "address" : "account",
      };
    }
    ticket.accountCount = result.counts[0];
    ticket.addressCount = result.counts[quotas.length - 1];
    return { admitted: true, ticket };
  }

  /**
   * The admitted attempt failed: it stays counted. The attempt that filled the account's budget
   * turns it into a lock (the counter lives on for the lock's length); the one that filled the
   * address's budget is reported too. Answers the locks it set, for the audit log.
   */
  async failed(ticket: LoginTicket): Promise<LockSet[]> {
    const locks: LockSet[] = [];
    if (ticket.accountCount === this.#login.maxFailures) {
      const { count: strike } = await this.#store.increment(ticket.strikesKey, STRIKE_MEMORY_MS, {
        sliding: true,
      });
      const seconds = lockSeconds(strike, this.#login.lockSeconds, this.#login.maxLockSeconds);
      await this.#store.expire(ticket.failuresKey, seconds * 1000);
      locks.push({ limit: "account", seconds, strike });
    }
    if (ticket.addressCount === this.#address.maxFailures)
      locks.push({ limit: "address", seconds: this.#address.windowSeconds });
    return locks;
  }

  /** The admitted attempt signed in: the pair's failures and lock history go, and it was no address failure. */
  async succeeded(ticket: LoginTicket): Promise<void> {
    await this.#store.reset([ticket.failuresKey, ticket.strikesKey]);
    await this.#store.increment(ticket.knownKey, KNOWN_ADDRESS_MS, { sliding: true });
    await this.#store.giveBack([...(ticket.countsAccount ? [ticket.accountKey] : []), ticket.addressKey]);
  }

  /** The admitted attempt ended in an error of ours (no answer on the password): it does not count. */
  async abandoned(ticket: LoginTicket): Promise<void> {
    await this.#store.giveBack([
      ticket.failuresKey,
      ...(ticket.countsAccount ? [ticket.accountKey] : []),
      ticket.addressKey,
    ]);
  }
}

export type LoginGate =
  | { admitted: true; ticket: LoginTicket }
  | { admitted: false; retryAfterSeconds: number; limit: "account" | "address" };

/** An admitted attempt: its counters, and its place in them (1 = the first of the window). */
export interface LoginTicket {
  readonly failuresKey: string;
  readonly strikesKey: string;
  readonly addressKey: string;
  /** The account's failures from every address. */
  readonly accountKey: string;
  /** Set while the account has signed in from this address recently. */
  readonly knownKey: string;
  /** Whether this attempt counts in the account-wide budget (the address is not known). */
  countsAccount: boolean;
  accountCount: number | undefined;
  addressCount: number | undefined;
}

/** A lock a failure set: the pair's (the n-th `strike`), or the address's (until its window ends). */
export interface LockSet {
  limit: "account" | "address";
  seconds: number;
  strike?: number;
}

/** The n-th lock's length: `first`, doubled each time, capped at `max`. */
export function lockSeconds(strike: number, first: number, max: number): number {
  return Math.min(first * 2 ** Math.min(Math.max(strike - 1, 0), 30), max);
}

/**
 * The account in counter keys: a hash of the normalized email, so that Redis holds no email
 * addresses and every key has the same length.
 */
function accountKey(email: string): string {
  return createHash("sha256").update(email).digest("base64url").slice(0, 22);
}

/** Sign-ups per client address, admitted before the password is hashed. */
export class SignUpLimits {
  readonly #store: LimitStore;
  readonly #limit: UsersLimits["signUp"];

  constructor(store: LimitStore, limit: UsersLimits["signUp"]) {
    this.#store = store;
    this.#limit = limit;
  }

  /** Counts one sign-up from the address; answers how long to wait when its budget is spent. */
  async admit(address: string): Promise<{ admitted: true } | { admitted: false; retryAfterSeconds: number }> {
    const result = await this.#store.take([
      {
        key: `signup:address:${addressBucket(address)}`,
        limit: this.#limit.max,
        windowMs: this.#limit.windowSeconds * 1000,
      },
    ]);
    if (result.taken) return { admitted: true };
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(result.retryAfterMs / 1000)) };
  }
}
