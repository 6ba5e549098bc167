import { ServiceClient, StaticDiscovery } from "@blossom/client";
import type { ServiceClients } from "@blossom/host";
import { freePort } from "@blossom/testkit";
import Fastify from "fastify";
import { afterAll, describe, expect, it } from "vitest";
import { callEveryInstance } from "./ops-fanout.js";

const servers: ReturnType<typeof Fastify>[] = [];
const clients: ServiceClient[] = [];
afterAll(async () => {
  await Promise.all([...servers.map((server) => server.close()), ...clients.map((client) => client.close())]);
});

async function instance(name: string, status = 200): Promise<string> {
  const app = Fastify();
  app.get("/internal/ops/logs", async (request, reply) =>
    reply
      .code(status)
      .send({ name, query: request.query, authorization: request.headers.authorization ?? null }),
  );
  servers.push(app);
  return app.listen({ port: 0, host: "127.0.0.1" });
}

describe("callEveryInstance", () => {
  it("asks every instance of every upstream once, with the caller's token; names the ones that fail", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const discovery = new StaticDiscovery({
      orders: [await instance("orders-1"), await instance("orders-2"), dead],
      users: [await instance("users-1", 503)],
      inventory: [await instance("inventory-1")],
    });
    const pool: ServiceClients = {
      get(service) {
        const client = new ServiceClient({ service, discovery });
        clients.push(client);
        return client;
      },
    };
    const result = await callEveryInstance<{ name: string; query: unknown; authorization: string | null }>(
      pool,
      "/internal/ops/logs",
      { level: "warn", limit: 5, since: undefined },
      "Bearer admin-token",
    );
    expect(result.answers.map((answer) => answer.body.name).sort()).toEqual([
      "inventory-1",
      "orders-1",
      "orders-2",
    ]);
    for (const answer of result.answers) {
      expect(answer.body.query).toEqual({ level: "warn", limit: "5" });
      expect(answer.body.authorization).toBe("Bearer admin-token");
    }
    expect(result.unavailable).toHaveLength(2);
    expect(result.unavailable).toContain(`orders ${dead}`);
    expect(result.unavailable.some((name) => /^users http/.test(name))).toBe(true);

    const onlyOrders = await callEveryInstance<{ name: string }>(
      pool,
      "/internal/ops/logs",
      {},
      undefined,
      "orders",
    );
    expect(onlyOrders.answers.map((answer) => answer.body.name).sort()).toEqual(["orders-1", "orders-2"]);
  });
});
