import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { HttpProblem } from "./problem.js";
import { type App, createServer } from "./server.js";

const MB = 1024 * 1024;

let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A server from the factory, as every service has, with a route that takes a body. */
async function serve(options: { maxDiscardedBodyBytes?: number } = {}): Promise<string> {
  app = createServer({
    service: "test",
    logger: createLogger({ service: "test", level: "silent" }),
    ...options,
  }).app;
  app.post("/things", async (_request, reply) => reply.code(201).send({ ok: true }));
  // Refused from the headers alone, before anything reads the body.
  app.post(
    "/refused",
    {
      onRequest: async () => {
        throw HttpProblem.of("forbidden", "not you");
      },
    },
    async () => ({}),
  );
  return app.listen({ port: 0, host: "127.0.0.1" });
}

/** `size` bytes (endless when undefined) sent as a stream, a little at a time; `pulled` counts them. */
function streamed(size: number | undefined, counter = { pulled: 0 }): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  return new ReadableStream({
    async pull(controller) {
      if (size !== undefined && counter.pulled >= size) return controller.close();
      if ((counter.pulled / chunk.length) % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 1));
      controller.enqueue(chunk);
      counter.pulled += chunk.length;
    },
  });
}

const send = (url: string, body: string | ReadableStream<Uint8Array>) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    ...(typeof body === "string" ? {} : { duplex: "half" }),
  } as RequestInit);

describe("an answer sent before the body arrived", () => {
  it.each([2, 10])(
    "is a 413 problem a client streaming %i MB receives, not a reset connection",
    async (mb) => {
      const url = await serve();
      const answer = await send(`${url}/things`, streamed(mb * MB));
      expect(answer.status).toBe(413);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(await answer.json()).toMatchObject({ type: "https://blossom.dev/problems/payload-too-large" });
      // The connection was kept and drained: the next request is served.
      expect((await send(`${url}/things`, "{}")).status).toBe(201);
    },
  );

  it("is a 413 for a body sent whole with its length, too", async () => {
    const url = await serve();
    const answer = await send(`${url}/things`, `"${"x".repeat(3 * MB)}"`);
    expect(answer.status).toBe(413);
  });

  it("reaches a client still sending when it was decided from the headers", async () => {
    const url = await serve();
    const answer = await send(`${url}/refused`, streamed(3 * MB));
    expect(answer.status).toBe(403);
  });

  it("discards a bounded amount: an endless body is cut off, not read forever", async () => {
    const url = await serve({ maxDiscardedBodyBytes: MB });
    const counter = { pulled: 0 };
    const outcome = await send(`${url}/things`, streamed(undefined, counter)).then(
      async (answer) => {
        await answer.text().catch(() => {});
        return answer.status;
      },
      () => "reset",
    );
    expect([413, "reset"]).toContain(outcome);
    // What the server read, plus what the two kernels' socket buffers took before the close.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const settled = counter.pulled;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(counter.pulled).toBe(settled);
    expect(counter.pulled).toBeLessThan(128 * MB);
  });
});
