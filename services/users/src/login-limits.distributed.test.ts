import { randomBytes, randomUUID } from "node:crypto";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { addressBucket } from "@blossom/limits";
import { freePort, type ServiceUnderTest, startServiceForTest, testAdapters } from "@blossom/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS_KEY_PREFIX } from "./auth/limit-counters.js";
import { usersService } from "./service.js";
import type { UsersSettingsSchema } from "./settings.js";
import type { UsersTables } from "./store/tables.js";

// Runs with the distributed suites (BLOSSOM_TEST_ADAPTERS names nats), where Redis runs beside
// NATS and PostgreSQL; `npm test` does not pick this file up (vitest.config.ts). Two users
// replicas share their login counters through the real Redis (REDIS_URL); every key a run makes
// names its own client addresses (a random IPv6 /64), and is removed at the end.

const REDIS_URL = process.env.BLOSSOM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const PASSWORD = "correct horse battery";
const SETTINGS = {
  USERS_LOGIN_MAX_FAILURES: "5",
  USERS_LOGIN_LOCK_SECONDS: "30",
  USERS_SIGNUP_MAX_PER_ADDRESS: "2",
};

/** A client address in a /64 of this run's own. */
function newAddress(): string {
  const group = () => randomBytes(2).toString("hex");
  return `2001:db8:${group()}:${group()}::1`;
}
const buckets: string[] = [];
function trackedAddress(): string {
  const address = newAddress();
  buckets.push(addressBucket(address));
  return address;
}

interface Replica {
  service: ServiceUnderTest<UsersTables, UsersSettingsSchema>;
  login(email: string, password: string, from: string): Promise<{ status: number; body: unknown }>;
  signUp(email: string, from: string): Promise<number>;
  stop(): Promise<void>;
}

async function startReplica(redisUrl: string): Promise<Replica> {
  const service = await startServiceForTest(usersService, {
    settings: { ...SETTINGS, REDIS_URL: redisUrl },
    logLevel: "warn",
  });
  const post = async (url: string, payload: Record<string, unknown>, from: string) => {
    const response = await service.host.app.inject({ method: "POST", url, payload, remoteAddress: from });
    return { status: response.statusCode, body: response.json() as unknown };
  };
  return {
    service,
    login: (email, password, from) => post("/api/auth/login", { email, password }, from),
    signUp: async (email, from) =>
      (await post("/api/users", { email, password: PASSWORD, name: "Ann" }, from)).status,
    stop: () => service.close(),
  };
}

/** A TCP relay to Redis that can be cut, as a network failure would. */
async function relayTo(url: string, port = 0): Promise<{ url: string; cut(): Promise<void> }> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((listening) => server.listen(port, "127.0.0.1", listening));
  const address = server.address();
  return {
    url: `redis://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
    async cut() {
      await new Promise<void>((closed) => {
        server.close(() => closed());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

describe.runIf(testAdapters().bus.includes("nats"))("login limits shared through Redis", () => {
  let admin: Redis;
  let one: Replica;
  let two: Replica;

  beforeAll(async () => {
    admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
    [one, two] = [await startReplica(REDIS_URL), await startReplica(REDIS_URL)];
  }, 60_000);

  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    // Leave nothing behind: every key of this run names one of its addresses.
    for (const bucket of buckets) {
      const keys = await admin.keys(`${LIMITS_KEY_PREFIX}*${bucket}*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    await admin?.quit();
  });

  it("counts one account's failures on both replicas against one budget: locked on both, the right password too", async () => {
    const attacker = trackedAddress();
    const email = `ann-${randomUUID()}@example.com`;
    expect(await one.signUp(email, trackedAddress())).toBe(201);
    const statuses: number[] = [];
    for (let guess = 0; guess < 6; guess++)
      statuses.push((await (guess % 2 ? two : one).login(email, `wrong ${guess}`, attacker)).status);
    // Three failures on one, two on the other: five in all, then locked.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await one.login(email, PASSWORD, attacker)).status).toBe(429);
    expect((await two.login(email, PASSWORD, attacker)).status).toBe(429);
    // The counters are in Redis, under the users service's prefix, and expire.
    const keys = await admin.keys(`${LIMITS_KEY_PREFIX}login:*`);
    const mine = keys.filter((key) => key.endsWith(addressBucket(attacker)));
    expect(mine.length).toBeGreaterThan(0);
    for (const key of mine) expect(await admin.pttl(key)).toBeGreaterThan(0);
    // The owner, from an address of their own, signs in.
    expect((await one.login(email, PASSWORD, trackedAddress())).status).toBe(200);
  });

  it("counts sign-ups from one address on both replicas against one budget", async () => {
    const from = trackedAddress();
    const statuses = [
      await one.signUp(`a-${randomUUID()}@example.com`, from),
      await two.signUp(`b-${randomUUID()}@example.com`, from),
      await one.signUp(`c-${randomUUID()}@example.com`, from),
    ];
    expect(statuses).toEqual([201, 201, 429]);
  });

  it("when Redis fails mid-flight, counts in the replica's memory: logins go on, and the limit still holds", async () => {
    const relay = await relayTo(REDIS_URL);
    const replica = await startReplica(relay.url);
    const logs = replica.service.logLines;
    try {
      const email = `bob-${randomUUID()}@example.com`;
      expect(await replica.signUp(email, trackedAddress())).toBe(201);
      await relay.cut();
      // Not fail-closed: the owner still signs in.
      expect((await replica.login(email, PASSWORD, trackedAddress())).status).toBe(200);
      // Not fail-open: a guesser is still cut off, by this replica's own counters.
      const attacker = trackedAddress();
      const statuses: number[] = [];
      for (let guess = 0; guess < 6; guess++)
        statuses.push((await replica.login(email, `wrong ${guess}`, attacker)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      // It said so, once, at error level.
      const failovers = logs.filter((line) => line.includes("limits: Redis failed"));
      expect(failovers).toHaveLength(1);
      expect(JSON.parse(failovers[0] as string).level).toBe("error");
    } finally {
      await replica.stop();
    }
  }, 60_000);

  it("starts on memory when Redis cannot be reached (limits hold), and shares counts once it answers", async () => {
    const port = await freePort();
    const replica = await startReplica(`redis://127.0.0.1:${port}`);
    const logs = replica.service.logLines;
    let relay: { cut(): Promise<void> } | undefined;
    try {
      expect(logs.join("")).toContain("limits: cannot reach Redis at REDIS_URL");
      const email = `carol-${randomUUID()}@example.com`;
      const attacker = trackedAddress();
      const statuses: number[] = [];
      for (let guess = 0; guess < 6; guess++)
        statuses.push((await replica.login(email, `wrong ${guess}`, attacker)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);

      relay = await relayTo(REDIS_URL, port);
      // The client reconnects by itself; the replica tries Redis again within 5 s of its last failure.
      const deadline = Date.now() + 20_000;
      while (!logs.join("").includes("Redis answers again") && Date.now() < deadline) {
        await replica.login(`probe-${randomUUID()}@example.com`, "x", trackedAddress());
        await new Promise((done) => setTimeout(done, 500));
      }
      expect(logs.join("")).toContain("limits: Redis answers again");
      // Shared again: failures on this replica and on another count against one budget.
      const guesser = trackedAddress();
      const shared: number[] = [];
      for (let guess = 0; guess < 6; guess++)
        shared.push((await (guess % 2 ? one : replica).login(email, `wrong ${guess}`, guesser)).status);
      expect(shared).toEqual([401, 401, 401, 401, 401, 429]);
    } finally {
      await replica.stop();
      await relay?.cut();
    }
  }, 60_000);
});
