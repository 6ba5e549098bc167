import { slowBody, type TestSigningKey, testSigningKey } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayHarness } from "./test-harness.js";

/**
 * A body over the limit (1 MiB) gets its 413 problem+json through the gateway, with a token or
 * without, instead of a connection reset while Node's `fetch` is still sending it (EPIPE).
 */

const MB = 1024 * 1024;
const TOO_LARGE = "https://blossom.dev/problems/payload-too-large";

let key: TestSigningKey;
let token: string;
let gateway: string;
let forwarded = 0;
const harness = new GatewayHarness();

beforeAll(async () => {
  key = await testSigningKey();
  token = await key.token({ userId: "u1" });
  const orders = await harness.upstream((app) => {
    app.post("/api/orders", async (_request, reply) => {
      forwarded++;
      return reply.code(202).send({ id: "o1" });
    });
  });
  gateway = await harness.gateway({ orders: [orders] }, { verifier: key.verifier });
});

afterAll(() => harness.close());

/** `size` bytes of JSON-ish text, sent whole (with Content-Length). */
const whole = (size: number) => `{"pad":"${"x".repeat(size - 10)}"}`;

async function post(body: string | ReadableStream<Uint8Array>, withToken: boolean) {
  const response = await fetch(`${gateway}/api/orders`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "idempotency-key": "k1",
      ...(withToken ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
    ...(typeof body === "string" ? {} : { duplex: "half" }),
  } as RequestInit);
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: (await response.json()) as { type: string; status: number },
  };
}

describe("a body over the limit, through the gateway", () => {
  it.each([2, 5, 10])("with a token, %i MB sent whole: 413 problem+json", async (mb) => {
    const answer = await post(whole(mb * MB), true);
    expect(answer.status).toBe(413);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ type: TOO_LARGE, status: 413 });
  });

  it.each([2, 5, 10])("with a token, %i MB streamed: 413, not a reset connection", async (mb) => {
    const answer = await post(slowBody(mb * MB), true);
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ type: TOO_LARGE, status: 413 });
  });

  it.each([2, 10])("without a token, %i MB sent whole: 413 as with one (not 401)", async (mb) => {
    const answer = await post(whole(mb * MB), false);
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ type: TOO_LARGE, status: 413 });
  });

  it("without a token, streamed (its size unknown until read): 401, still not a reset connection", async () => {
    const answer = await post(slowBody(3 * MB), false);
    expect(answer.status).toBe(401);
  });

  it("forwards none of them, and serves the next request as usual", async () => {
    expect(forwarded).toBe(0);
    const small = await post(JSON.stringify({ items: [] }), true);
    expect(small.status).toBe(202);
    expect(forwarded).toBe(1);
  });
});
