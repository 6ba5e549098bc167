import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ephemeralRangeStart, freePort } from "./ports.js";

function listen(port: number): Promise<Server> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => done(server));
  });
}

describe("freePort", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
  });

  it("hands out ports below the kernel's ephemeral range, each one listenable and none twice", async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralRangeStart());
      servers.push(await listen(port));
    }
  });

  it("never hands out a port something listens on", async () => {
    // Every port it returns is then held, so a later call that returned one would fail to differ.
    const held = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const port = await freePort();
      expect(held.has(port)).toBe(false);
      held.add(port);
      servers.push(await listen(port));
    }
  });
});
