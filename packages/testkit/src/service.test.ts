import { existsSync } from "node:fs";
import { requireUser } from "@blossom/auth";
import { defineEvent, messagingMigrations } from "@blossom/bus";
import { on, type ServiceDefinition } from "@blossom/host";
import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { startServiceForTest } from "./service.js";
import { eventually } from "./wait.js";

// A service of the kit's own (packages never import services): a route that needs a user, and a
// handler that answers every ping with a pong through the outbox, logging a warning.
const Pinged = defineEvent("pinger.pinged.v1", Type.Object({ n: Type.Integer() }), "a ping");
const Ponged = defineEvent("echo.ponged.v1", Type.Object({ n: Type.Integer() }), "its answer");

const echo: ServiceDefinition<unknown> = {
  name: "echo",
  description: "answers pings",
  migrations: messagingMigrations,
  publishes: [Ponged],
  consumes: [
    on(Pinged, async ({ data, envelope, trx, context }) => {
      context.logger.warn({ n: data.n }, "ping handled");
      await context.outbox.add(trx, Ponged, envelope.subject, { n: data.n });
    }),
  ],
  settings: {},
  routes(app) {
    app.get("/api/echo/me", { config: { auth: "user" } }, async (request) => requireUser(request));
  },
};

describe("startServiceForTest", () => {
  it("runs a service on the host: tokens its verifier accepts, events in and out, its logs", async () => {
    const echoing = await startServiceForTest(echo, { logLevel: "warn" });
    try {
      expect(echoing.hosts).toEqual([echoing.host]);
      expect((await echoing.call("GET", "/api/echo/me")).status).toBe(401);
      const me = await echoing.call("GET", "/api/echo/me", { token: await echoing.token("ann", "admin") });
      expect(me).toMatchObject({ status: 200, body: { userId: "ann", role: "admin" } });

      const ping = await echoing.publish(Pinged, "s-1", { n: 7 });
      expect(ping).toMatchObject({ type: Pinged.type, source: "pinger", subject: "s-1", data: { n: 7 } });
      await echoing.settle();
      const pong = await eventually(() => echoing.published.find((event) => event.subject === "s-1"));
      expect(pong).toMatchObject({ type: Ponged.type, source: "echo", data: { n: 7 } });
      expect(echoing.logs()).toEqual([expect.objectContaining({ level: "warn", msg: "ping handled", n: 7 })]);
      expect(echoing.logLines).toHaveLength(1);
    } finally {
      await echoing.close();
    }
    expect(existsSync(echoing.dataDir)).toBe(false);
    await echoing.close(); // idempotent
  });

  it("keeps the data for a restart when asked, and cleans up after a start that fails", async () => {
    const first = await startServiceForTest(echo);
    await first.close({ keepData: true });
    expect(existsSync(first.dataDir)).toBe(true);
    const again = await startServiceForTest(echo, { dataDir: first.dataDir });
    await again.close();
    expect(existsSync(first.dataDir)).toBe(false);

    const broken: ServiceDefinition<unknown> = {
      ...echo,
      routes() {
        throw new Error("no routes today");
      },
    };
    await expect(startServiceForTest(broken)).rejects.toThrow(/no routes today/);
  });
});
