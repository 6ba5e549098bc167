import { describe, expect, it } from "vitest";
import { retryStartup } from "./retry-startup.js";

describe("retryStartup", () => {
  it("retries a server that is not up yet, logging each wait, until it answers", async () => {
    const warnings: string[] = [];
    let calls = 0;
    const value = await retryStartup(
      "NATS",
      async () => {
        calls += 1;
        if (calls < 3) throw new Error("connection refused");
        return "connected";
      },
      { warn: (_obj, msg) => warnings.push(msg ?? "") },
      5_000,
    );
    expect(value).toBe("connected");
    expect(calls).toBe(3);
    expect(warnings).toEqual(["NATS is not reachable yet; retrying", "NATS is not reachable yet; retrying"]);
  });

  it("gives up with the last error once the wait is over", async () => {
    let calls = 0;
    const started = Date.now();
    await expect(
      retryStartup(
        "NATS",
        async () => {
          calls += 1;
          throw new Error(`refused #${calls}`);
        },
        { warn: () => {} },
        600,
      ),
    ).rejects.toThrow("refused #2");
    // 250 ms, then 500 ms would pass the deadline: two attempts, well within a second.
    expect(calls).toBe(2);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
