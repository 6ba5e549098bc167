import { randomUUID } from "node:crypto";
import type { EventEnvelope } from "@blossom/bus";
import { eventually } from "@blossom/testkit";
import { UserRegistered } from "@blossom/users-contracts";
import { afterEach, describe, expect, it } from "vitest";
import { NotificationSent } from "./events/contracts.js";
import { notificationsService } from "./service.js";
import { type SmtpPeer, startSmtpPeer } from "./testing/smtp-peer.js";
import { type NotificationsUnderTest, startNotifications } from "./testing/start-notifications.js";

let harness: NotificationsUnderTest | undefined;
let peer: SmtpPeer | undefined;
afterEach(async () => {
  await harness?.close();
  await peer?.close();
  harness = undefined;
  peer = undefined;
});

describe("the notifications service definition", () => {
  it("declares its settings", () => {
    expect(Object.keys(notificationsService.settings ?? {}).sort()).toEqual([
      "NOTIFICATIONS_MAX_ATTEMPTS",
      "NOTIFICATIONS_SMTP_FROM",
      "NOTIFICATIONS_SMTP_URL",
    ]);
  });

  it("runs its delivery loop while the host runs: SMTP from the settings, and a sent event", async () => {
    peer = await startSmtpPeer();
    harness = await startNotifications({
      background: true,
      settings: {
        NOTIFICATIONS_SMTP_URL: peer.url,
        NOTIFICATIONS_SMTP_FROM: "Blossom Shop <hello@blossom.test>",
      },
    });
    const sent: EventEnvelope[] = [];
    await harness.bus.subscribe("probe", [NotificationSent.type], async (envelope) => {
      sent.push(envelope);
    });
    const userId = randomUUID();
    await harness.publish(UserRegistered, userId, { userId, email: "dee@example.com", name: "Dee" });

    const mail = await eventually(async () => peer?.mails[0], 10_000, "the welcome mail");
    expect(mail.to).toEqual(["dee@example.com"]);
    expect(mail.headers.from).toBe("Blossom Shop <hello@blossom.test>");
    expect(mail.headers.subject).toBe("Welcome to Blossom");
    const event = await eventually(async () => sent[0], 10_000, "notifications.notification-sent.v1");
    expect(event).toMatchObject({ subject: userId, data: { userId, channel: "email", template: "welcome" } });

    // Stopping the host stops the loop before the database closes (close() would hang or throw otherwise).
    await harness.close();
    harness = undefined;
    expect(peer.mails).toHaveLength(1);
  });

  it("delivers to the local mailbox when no SMTP server is configured", async () => {
    harness = await startNotifications({ background: true });
    const userId = randomUUID();
    await harness.publish(UserRegistered, userId, { userId, email: "eve@example.com", name: "Eve" });
    const db = harness.host.context.db;
    const mail = await eventually(
      () => db.selectFrom("mailbox").selectAll().executeTakeFirst(),
      10_000,
      "the welcome in the mailbox",
    );
    expect(mail).toMatchObject({ recipient: "eve@example.com", subject: "Welcome to Blossom" });
    const token = await harness.token(userId);
    const list = await harness.call<{ items: Array<{ status: string }> }>("GET", "/api/notifications", {
      token,
    });
    expect(list.body.items).toEqual([expect.objectContaining({ template: "welcome", status: "sent" })]);
  });
});
