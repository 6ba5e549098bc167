import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { childEnvironment, parseReplicas, planInstances, restartDelayMs } from "./cluster-plan.js";
import { checkServers, requiredServers } from "./cluster-preflight.js";
import { formatClusterTable } from "./cluster-table.js";

describe("parseReplicas", () => {
  it("gives every runnable 2 replicas by default", () => {
    expect(Object.fromEntries(parseReplicas(undefined))).toEqual({
      gateway: 2,
      users: 2,
      inventory: 2,
      orders: 2,
      payments: 2,
      notifications: 2,
    });
  });

  it("takes per-service counts and a bare number for the rest", () => {
    const replicas = parseReplicas("orders=3, inventory=2,1");
    expect(replicas.get("orders")).toBe(3);
    expect(replicas.get("inventory")).toBe(2);
    expect(replicas.get("users")).toBe(1);
    expect(replicas.get("gateway")).toBe(1);
  });

  it("refuses unknown services and counts out of range, naming the entry", () => {
    expect(() => parseReplicas("shipping=2")).toThrow(/"shipping=2": unknown service/);
    expect(() => parseReplicas("orders=0")).toThrow(/"orders=0": the count must be an integer/);
    expect(() => parseReplicas("orders=two")).toThrow(/"orders=two"/);
  });
});

describe("planInstances", () => {
  it("orders instances by tier (users, services, gateway) and puts gateway replicas on consecutive ports", () => {
    const plan = planInstances(parseReplicas("1,gateway=2,orders=2"), 8080);
    expect(plan.map((instance) => instance.label)).toEqual([
      "users#1",
      "inventory#1",
      "payments#1",
      "notifications#1",
      "orders#1",
      "orders#2",
      "gateway#1",
      "gateway#2",
    ]);
    expect(
      plan.filter((instance) => instance.service === "gateway").map((instance) => instance.port),
    ).toEqual([8080, 8081]);
    expect(
      plan.filter((instance) => instance.service !== "gateway").every((instance) => instance.port === 0),
    ).toBe(true);
    expect(planInstances(parseReplicas("gateway=2"), 0).at(-1)?.port).toBe(0);
  });
});

describe("childEnvironment", () => {
  it("drops settings that would make replicas collide or bypass the instance bucket, and adds the servers", () => {
    const [orders] = planInstances(parseReplicas("1"), 8080).filter(
      (instance) => instance.service === "orders",
    );
    if (!orders) throw new Error("no orders instance");
    const env = childEnvironment(
      {
        LOG_LEVEL: "warn",
        ORDERS_PORT: "8083",
        ORDERS_URL: "http://127.0.0.1:8083",
        INVENTORY_URL: "http://127.0.0.1:8082",
        PORT: "9000",
        DATABASE_URL: "postgres://elsewhere/db",
        ORDERS_SAGA_DEADLINE_SECONDS: "20",
      },
      orders,
      {
        natsUrl: "nats://127.0.0.1:4222",
        redisUrl: "redis://127.0.0.1:6379",
        prefix: "blossom",
        databases: new Map([["orders", "postgres://postgres@127.0.0.1:5432/blossom_orders"]]),
        logFormat: "json",
      },
    );
    expect(env).toEqual({
      LOG_LEVEL: "warn",
      ORDERS_SAGA_DEADLINE_SECONDS: "20",
      NATS_URL: "nats://127.0.0.1:4222",
      REDIS_URL: "redis://127.0.0.1:6379",
      BLOSSOM_NATS_PREFIX: "blossom",
      BLOSSOM_DISCOVERY: "nats",
      LOG_FORMAT: "json",
      PORT: "0",
      ORDERS_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/blossom_orders",
    });
  });
});

describe("restartDelayMs", () => {
  it("doubles from 0.5 s and stops growing at 15 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(restartDelayMs)).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
  });
});

describe("formatClusterTable", () => {
  it("lists every instance with its pid and URL, aligned", () => {
    const table = formatClusterTable(
      [
        { instance: "users#1", pid: 101, url: "http://127.0.0.1:40001", database: "blossom_users" },
        { instance: "gateway#1", pid: 2002, url: "http://127.0.0.1:8080", database: "-" },
      ],
      3.25,
      ["bus nats://127.0.0.1:4222"],
    );
    expect(table.split("\n")).toEqual([
      "Blossom cluster is ready (3.3 s): 2 instances",
      "  INSTANCE   PID   URL                     DATABASE",
      "  users#1    101   http://127.0.0.1:40001  blossom_users",
      "  gateway#1  2002  http://127.0.0.1:8080   -",
      "  bus nats://127.0.0.1:4222",
      "",
    ]);
  });
});

describe("checkServers", () => {
  it("names a server that is down, where, and how to start it", async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    const accepted = new Set<Socket>();
    const listening = createServer((socket) => {
      accepted.add(socket);
      socket.end();
    });
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    const up = (listening.address() as { port: number }).port;
    try {
      const problems = await checkServers(
        requiredServers({
          postgresUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
          natsUrl: `nats://127.0.0.1:${up}`,
          // Accepts the connection but never answers PING like a Redis.
          redisUrl: `redis://127.0.0.1:${up}`,
        }),
        1_000,
      );
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(
        new RegExp(
          `^PostgreSQL is not reachable at 127\\.0\\.0\\.1:${port} \\(BLOSSOM_POSTGRES_URL\\): .*ECONNREFUSED`,
        ),
      );
      expect(problems[0]).toContain(
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
      );
      expect(problems[0]).toContain("apt-get install postgresql");
      expect(problems[1]).toMatch(/^Redis is not reachable at .*\(REDIS_URL\)/);
      expect(problems[1]).toContain("redis-server --daemonize yes");
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => listening.close(resolve));
    }
  });
});
