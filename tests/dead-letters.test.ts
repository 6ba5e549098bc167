import { randomUUID } from "node:crypto";
import { createEnvelope } from "@blossom/bus";
import { callHttp, eventually } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";
import { ShopClient } from "./support/shop-client.js";
import { type PreparedTopology, prepareTopology, SERVICES, TOPOLOGIES } from "./support/topologies.js";

/**
 * Dead letters through the gateway (issue 17): each service lists the events its consumer gave
 * up on, shows one, replays it (delivered again to that service only) or discards it — admins
 * only, audited, and idempotent — on the in-memory bus and on NATS JetStream.
 *
 * The dead letter is what a faulty publisher causes: an `orders.order-placed.v1` whose data
 * breaks its contract, which inventory refuses at once (a contract violation is not retried).
 */
const ADMIN_PASSWORD = "dead letters admin password";
const PLACED = "orders.order-placed.v1";

interface Summary {
  id: string;
  consumer: string;
  eventId: string;
  eventType: string;
  subject: string;
  attempts: number;
  error: string;
  at: string;
}
interface Outcome {
  id: string;
  action: "replayed" | "discarded";
  repeated: boolean;
  eventId: string | null;
}

describe.each(TOPOLOGIES)("dead letters on $name", (topology) => {
  let prepared: PreparedTopology;
  let platform: TestPlatform;
  let admin: ShopClient;
  let customer: ShopClient;

  beforeAll(async () => {
    prepared = await prepareTopology(topology);
    platform = await startTestPlatform(
      { BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD, ...prepared.env },
      prepared.env.BLOSSOM_DATA_DIR,
    );
    admin = await ShopClient.logIn(platform.gateway, "admin@blossom.local", ADMIN_PASSWORD);
    customer = await ShopClient.signUp(platform.gateway);
  }, 120_000);
  afterAll(async () => {
    await platform?.destroy();
    await prepared?.destroy();
  });

  async function list(service: string): Promise<Summary[]> {
    const answer = await admin.send<{ items: Summary[] }>("GET", `/api/${service}/dead-letters?limit=100`);
    if (answer.status !== 200) throw new Error(`list: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.items;
  }

  /** Publishes an order-placed event inventory cannot accept; resolves with its dead letter. */
  async function deadLetterOf(eventId: string): Promise<Summary> {
    return eventually(
      async () => (await list("inventory")).find((letter) => letter.eventId === eventId),
      10_000,
      "inventory's dead letter",
    );
  }

  it("lists and shows a dead letter with its error, attempts and event, credentials redacted", async () => {
    const event = createEnvelope("faulty-publisher", {
      type: PLACED,
      subject: randomUUID(),
      data: { orderId: "not an order", cardNumber: "4242424242424242", token: "secret-token" },
      correlationId: randomUUID(),
    });
    await platform.bus.publish([event]);
    const letter = await deadLetterOf(event.id);
    expect(letter).toMatchObject({
      consumer: "inventory",
      eventType: PLACED,
      subject: event.subject,
      attempts: 1,
    });
    expect(letter.error).toMatch(/\S/);
    expect(Number.isNaN(Date.parse(letter.at))).toBe(false);

    const shown = await admin.send<Summary & { event: { id: string; data: Record<string, unknown> } }>(
      "GET",
      `/api/inventory/dead-letters/${letter.id}`,
    );
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      id: letter.id,
      eventId: event.id,
      correlationId: event.correlationId,
    });
    expect(shown.body.event.data).toEqual({
      orderId: "not an order",
      cardNumber: "[redacted]",
      token: "[redacted]",
    });
    expect(JSON.stringify(shown.body)).not.toMatch(/4242424242424242|secret-token/);
    // Another service's, and an unknown one, are not found.
    expect((await admin.send("GET", `/api/payments/dead-letters/${letter.id}`)).status).toBe(404);
    expect((await admin.send("GET", "/api/inventory/dead-letters/424242")).status).toBe(404);
    for (const service of SERVICES) expect(Array.isArray(await list(service))).toBe(true);
  });

  it("replays one to its consumer only, once however often asked, audited", async () => {
    const event = createEnvelope("faulty-publisher", {
      type: PLACED,
      subject: randomUUID(),
      data: { bad: true },
    });
    await platform.bus.publish([event]);
    const letter = await deadLetterOf(event.id);
    const othersBefore = await Promise.all(
      SERVICES.filter((service) => service !== "inventory").map(
        async (service) => (await list(service)).length,
      ),
    );

    const replayed = await admin.send<Outcome>("POST", `/api/inventory/dead-letters/${letter.id}/replay`);
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({
      id: letter.id,
      action: "replayed",
      repeated: false,
      eventId: event.id,
    });
    // Delivered again: still unacceptable, so dead-lettered again, under a new id.
    const again = await eventually(
      async () =>
        (await list("inventory")).find((dead) => dead.eventId === event.id && dead.id !== letter.id),
      10_000,
      "the replayed event dead-lettered again",
    );
    expect((await list("inventory")).some((dead) => dead.id === letter.id)).toBe(false);
    // Asked again (a retry, a second operator): nothing more is delivered.
    const repeated = await admin.send<Outcome>("POST", `/api/inventory/dead-letters/${letter.id}/replay`);
    expect(repeated.status).toBe(200);
    expect(repeated.body).toMatchObject({ action: "replayed", repeated: true, eventId: event.id });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      (await list("inventory")).filter((dead) => dead.eventId === event.id).map((dead) => dead.id),
    ).toEqual([again.id]);
    // No other consumer received the replay.
    const othersAfter = await Promise.all(
      SERVICES.filter((service) => service !== "inventory").map(
        async (service) => (await list(service)).length,
      ),
    );
    expect(othersAfter).toEqual(othersBefore);

    const audit = await admin.send<{ items: Array<{ actor: string; target: string; details: unknown }> }>(
      "GET",
      "/api/inventory/audit?action=dead-letter.replayed&limit=100",
    );
    const entries = audit.body.items.filter((entry) => entry.target === `dead-letter:${letter.id}`);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.details).toMatchObject({ eventId: event.id, eventType: PLACED });
  });

  it("discards one, idempotently; a discarded one cannot be replayed", async () => {
    const event = createEnvelope("faulty-publisher", { type: PLACED, subject: randomUUID(), data: {} });
    await platform.bus.publish([event]);
    const letter = await deadLetterOf(event.id);
    const discarded = await admin.send<Outcome>("POST", `/api/inventory/dead-letters/${letter.id}/discard`);
    expect(discarded.status).toBe(200);
    expect(discarded.body).toMatchObject({ action: "discarded", repeated: false });
    expect((await list("inventory")).some((dead) => dead.id === letter.id)).toBe(false);
    const again = await admin.send<Outcome>("POST", `/api/inventory/dead-letters/${letter.id}/discard`);
    expect(again.body).toMatchObject({ action: "discarded", repeated: true, eventId: event.id });
    expect((await admin.send("POST", `/api/inventory/dead-letters/${letter.id}/replay`)).status).toBe(409);
    expect((await admin.send("POST", "/api/inventory/dead-letters/424242/discard")).status).toBe(404);
    const audit = await admin.send<{ items: Array<{ target: string }> }>(
      "GET",
      "/api/inventory/audit?action=dead-letter.discarded&limit=100",
    );
    expect(audit.body.items.filter((entry) => entry.target === `dead-letter:${letter.id}`)).toHaveLength(1);
  });

  it("is for admins only: 401 without a token, 403 for a customer", async () => {
    const event = createEnvelope("faulty-publisher", { type: PLACED, subject: randomUUID(), data: {} });
    await platform.bus.publish([event]);
    const letter = await deadLetterOf(event.id);
    const routes: Array<[string, string]> = [
      ["GET", "/api/inventory/dead-letters"],
      ["GET", `/api/inventory/dead-letters/${letter.id}`],
      ["POST", `/api/inventory/dead-letters/${letter.id}/replay`],
      ["POST", `/api/inventory/dead-letters/${letter.id}/discard`],
    ];
    for (const [method, path] of routes) {
      expect((await callHttp(platform.gateway, method, path)).status, `${method} ${path}`).toBe(401);
      expect((await customer.send(method, path)).status, `${method} ${path}`).toBe(403);
    }
    expect((await list("inventory")).some((dead) => dead.id === letter.id)).toBe(true);
  });
});
