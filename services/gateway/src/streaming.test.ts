import type { ServerResponse } from "node:http";
import { type TestSigningKey, testSigningKey } from "@blossom/testkit";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayHarness } from "./test-harness.js";

let key: TestSigningKey;
beforeAll(async () => {
  key = await testSigningKey();
});

const harness = new GatewayHarness();
afterEach(() => harness.close());

/** A real server-sent-events upstream that sends one event now and then one per `send()`. */
async function eventSource() {
  let stream: ServerResponse | undefined;
  let closed = false;
  let markConnected = () => {};
  const connected = new Promise<void>((resolve) => {
    markConnected = resolve;
  });
  const url = await harness.upstream((app) => {
    app.get("/api/orders/events", (request, reply) => {
      reply.hijack();
      stream = reply.raw;
      stream.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      stream.write("event: hello\ndata: 1\n\n");
      request.raw.socket.once("close", () => {
        closed = true;
      });
      markConnected();
    });
  });
  return {
    url,
    connected,
    send: (data: string) => stream?.write(`data: ${data}\n\n`),
    end: () => stream?.end(),
    isClosed: () => closed,
  };
}

async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<string> {
  const decoder = new TextDecoder();
  let seen = "";
  while (!seen.includes(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before "${text}"; got ${JSON.stringify(seen)}`);
    seen += decoder.decode(value, { stream: true });
  }
  return seen;
}

describe("gateway streaming", () => {
  it("passes server-sent events through as they happen, beyond the upstream timeout", async () => {
    const source = await eventSource();
    // A 300 ms attempt timeout: the stream must outlive it, since it bounds only the headers.
    const gateway = await harness.gateway({ orders: [source.url] }, { verifier: key.verifier }, 300);
    const token = await key.token({ userId: "u1" });
    const response = await fetch(`${gateway}/api/orders/events`, {
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect(await readUntil(reader, "data: 1")).toContain("event: hello");
    // The next event is written only now: it arrives although the first one's answer is long sent.
    await new Promise((resolve) => setTimeout(resolve, 500));
    source.send("2");
    expect(await readUntil(reader, "data: 2")).toContain("data: 2");
    source.send("3");
    source.end();
    expect(await readUntil(reader, "data: 3")).toContain("data: 3");
    expect((await reader.read()).done).toBe(true);
  });

  it("closes the upstream stream when the client goes away", async () => {
    const source = await eventSource();
    const gateway = await harness.gateway({ orders: [source.url] }, { verifier: key.verifier });
    const token = await key.token({ userId: "u1" });
    const aborter = new AbortController();
    const response = await fetch(`${gateway}/api/orders/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: aborter.signal,
    });
    await source.connected;
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await readUntil(reader, "data: 1");
    aborter.abort();
    const deadline = Date.now() + 5000;
    while (!source.isClosed() && Date.now() < deadline) {
      source.send("ping");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(source.isClosed()).toBe(true);
  });

  it("still answers a streamed upstream's problem as problem+json, and a large body intact", async () => {
    const big = "x".repeat(2_000_000);
    const url = await harness.upstream((app) => {
      app.get("/api/orders/big", async () => ({ big }));
      app.get("/api/orders/missing", async (_request, reply) =>
        reply.code(404).type("application/problem+json").send({ type: "about:blank", status: 404 }),
      );
    });
    const gateway = await harness.gateway({ orders: [url] }, { verifier: key.verifier });
    const token = await key.token({ userId: "u1" });
    const headers = { authorization: `Bearer ${token}` };
    const large = await fetch(`${gateway}/api/orders/big`, { headers });
    expect(large.status).toBe(200);
    expect(((await large.json()) as { big: string }).big.length).toBe(big.length);
    const missing = await fetch(`${gateway}/api/orders/missing`, { headers });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toContain("application/problem+json");
    expect(await missing.json()).toEqual({ type: "about:blank", status: 404 });
  });

  it("sends a small answer whole, and breaks the client's connection off when the upstream breaks its answer off", async () => {
    const url = await harness.upstream((app) => {
      app.get("/api/orders/small", async (_request, reply) =>
        reply.header("etag", '"v1"').send({ id: "o1" }),
      );
      app.get("/api/orders/cut", (_request, reply) => {
        reply.hijack();
        // Declares 100 bytes, sends 10, then the connection goes.
        reply.raw.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        reply.raw.write('{"id":"o1"');
        setTimeout(() => reply.raw.destroy(), 20);
      });
    });
    const gateway = await harness.gateway({ orders: [url] }, { verifier: key.verifier });
    const headers = { authorization: `Bearer ${await key.token({ userId: "u1" })}` };
    const small = await fetch(`${gateway}/api/orders/small`, { headers });
    expect(small.status).toBe(200);
    expect(small.headers.get("etag")).toBe('"v1"');
    expect(small.headers.get("content-length")).toBe(String(JSON.stringify({ id: "o1" }).length));
    expect(await small.json()).toEqual({ id: "o1" });
    // Never a complete-looking 200 with a truncated body: the client sees the failure.
    await expect(
      fetch(`${gateway}/api/orders/cut`, { headers }).then((answer) => answer.text()),
    ).rejects.toThrow();
  });
});
