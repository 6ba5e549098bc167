/**
 * Test support for the notifications suites (not built: see tsconfig.json): a real host on
 * PGlite and a MemoryBus, tokens signed by a local Ed25519 key, a real SMTP peer.
 */

import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEnvelope, type EventContract, MemoryBus } from "@blossom/bus";
import { resolveSettings, type ServiceDefinition, ServiceHost } from "@blossom/host";
import { createLogger } from "@blossom/runtime";
import { testSigningKey } from "@blossom/testkit";
import type { Static, TObject } from "@sinclair/typebox";
import { sql } from "kysely";
import { SMTPServer } from "smtp-server";
import { DevPushChannel } from "../channels/dev-push.js";
import { DevSmsChannel } from "../channels/dev-sms.js";
import { MailboxEmailChannel } from "../channels/mailbox-email.js";
import { SmtpEmailChannel } from "../channels/smtp-email.js";
import { type DispatcherOptions, NotificationDispatcher } from "../dispatcher.js";
import { notificationsService } from "../service.js";
import type { NotificationsSettingsSchema } from "../settings.js";
import type { NotificationsTables } from "../store/tables.js";

export interface Harness {
  host: ServiceHost<NotificationsTables, NotificationsSettingsSchema>;
  bus: MemoryBus;
  url: string;
  /** Publishes one event as its producer would and waits until notifications handled it. */
  publish<S extends TObject>(
    contract: EventContract<S>,
    subject: string,
    data: Static<S>,
    id?: string,
  ): Promise<string>;
  /** An access token as the users service would sign it. */
  token(userId: string, role?: "customer" | "admin"): Promise<string>;
  /** An HTTP call to the service; the body is sent as JSON unless it is a string. */
  call<T = unknown>(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; contentType?: string },
  ): Promise<{ status: number; body: T; headers: Headers }>;
  /**
   * A dispatcher (not started; stopped by `reset()` and `close()`) over the real adapters: SMTP
   * to `smtpUrl` when given, else the mailbox; sms and push to their development sinks. No jitter.
   */
  dispatcher(
    options?: DispatcherOptions & { smtpUrl?: string; maxAttempts?: number },
  ): NotificationDispatcher;
  /** Stops the test's dispatchers and empties every table, for the next test on the same host. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  settings?: Record<string, unknown>;
  /** Run the service's own background delivery (the `start` hook). Default false: tests drive a dispatcher. */
  background?: boolean;
  /** A PostgreSQL database instead of a fresh PGlite directory (several hosts may share it: replicas). */
  databaseUrl?: string;
}

/** Starts notifications as the host runs it: migrations, routes, consumers, listening. */
export async function startNotifications(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "blossom-notifications-"));
  const key = await testSigningKey();
  const bus = new MemoryBus();
  const definition: ServiceDefinition<NotificationsTables, NotificationsSettingsSchema> = options.background
    ? notificationsService
    : { ...notificationsService, start: undefined };
  const host = await ServiceHost.create(definition, {
    bus,
    clients: {
      get(service: string): never {
        throw new Error(`no client to ${service} in this test`);
      },
    },
    logger: createLogger({ service: "notifications", level: "silent" }),
    dataDir,
    databaseUrl: options.databaseUrl,
    host: "127.0.0.1",
    port: 0,
    seed: false,
    environment: "test",
    settings: resolveSettings(definition.settings, options.settings ?? {}),
    verifier: key.verifier,
  });
  await host.subscribe();
  const url = await host.listen();
  const dispatchers: NotificationDispatcher[] = [];

  return {
    host,
    bus,
    url,
    async publish(contract, subject, data, id) {
      const envelope = createEnvelope(contract.type.split(".")[0] ?? "test", {
        type: contract.type,
        subject,
        data,
        ...(id ? { id } : {}),
      });
      await bus.publish([envelope]);
      return envelope.id;
    },
    token: (userId, role = "customer") => key.token({ userId, role }, "10m"),
    async call(method, path, callOptions = {}) {
      const headers: Record<string, string> = {};
      if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
      let body: string | undefined;
      if (callOptions.body !== undefined) {
        headers["content-type"] = callOptions.contentType ?? "application/json";
        body = typeof callOptions.body === "string" ? callOptions.body : JSON.stringify(callOptions.body);
      }
      const response = await fetch(`${url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: (text ? JSON.parse(text) : undefined) as never,
        headers: response.headers,
      };
    },
    dispatcher({ smtpUrl, maxAttempts, ...dispatcherOptions } = {}) {
      const { db, logger } = host.context;
      const dispatcher = new NotificationDispatcher(
        host.context,
        {
          email: smtpUrl
            ? new SmtpEmailChannel({ url: smtpUrl, from: "Blossom <shop@blossom.test>", timeoutMs: 5000 })
            : new MailboxEmailChannel(db),
          sms: new DevSmsChannel(db, logger),
          push: new DevPushChannel(db, logger),
        },
        {
          random: () => 0.5,
          ...dispatcherOptions,
          retry: { ...(maxAttempts ? { maxAttempts } : {}), ...dispatcherOptions.retry },
        },
      );
      dispatchers.push(dispatcher);
      return dispatcher;
    },
    async reset() {
      await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.stop()));
      await sql`truncate notifications, contacts, preferences, known_orders, mailbox, device_messages,
        inbox, outbox`.execute(host.context.db);
    },
    async close() {
      await Promise.all(dispatchers.map((dispatcher) => dispatcher.stop()));
      await host.stopAccepting();
      await host.close();
      await bus.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedMail {
  from: string | undefined;
  to: string[];
  raw: string;
  headers: Record<string, string>;
  /** The text body, transfer-decoded. */
  text: string;
}

export interface SmtpPeer {
  port: number;
  url: string;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 (no TLS, no authentication) that keeps every message it
 * accepted. Recipients matching `reject` are refused with 550 at RCPT TO.
 */
export async function startSmtpPeer(options: { port?: number; reject?: RegExp } = {}): Promise<SmtpPeer> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (options.reject?.test(address.address)) {
        callback(Object.assign(new Error("no such mailbox"), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const mailFrom = session.envelope.mailFrom;
        mails.push({
          from: mailFrom ? mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((address) => address.address),
          raw,
          ...parseMail(raw),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Headers (unfolded, lower-case names) and the decoded text body of a single-part message. */
function parseMail(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const body = raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const encoding = (headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  let text = body;
  if (encoding === "quoted-printable") {
    const bytes = body
      .replace(/=\r\n/g, "")
      .replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    text = Buffer.from(bytes, "latin1").toString("utf8");
  } else if (encoding === "base64") {
    text = Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  }
  return { headers, text: text.replace(/\r\n/g, "\n") };
}
