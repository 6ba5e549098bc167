import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "./ports.js";
import { eventually } from "./wait.js";

describe("eventually", () => {
  it("resolves with the first value that is neither undefined nor false", async () => {
    let calls = 0;
    const value = await eventually(() => (++calls >= 3 ? { calls } : undefined), 1000);
    expect(value).toEqual({ calls: 3 });
    let ready = false;
    setTimeout(() => {
      ready = true;
    }, 30);
    await expect(eventually(async () => ready, 1000)).resolves.toBe(true);
  });

  it("retries a probe that throws, and names what it waited for and the last error", async () => {
    await expect(
      eventually(
        () => {
          throw new Error("connection refused");
        },
        60,
        "the service",
      ),
    ).rejects.toThrow(/timed out after 60 ms waiting for the service: Error: connection refused/);
  });
});

describe("freePort", () => {
  it("returns a port nothing listens on, that can then be bound", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((listening) => server.listen(port, "127.0.0.1", listening));
    await new Promise<void>((closed) => server.close(() => closed()));
  });
});
