/**
 * Test support (not part of the build): a payments service on the real host, with PGlite, the
 * memory bus, a local signing key for bearer tokens, the log lines it wrote, and a consumer that
 * records every event payments publishes.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEnvelope, type EventContract, type EventEnvelope, MemoryBus } from "@blossom/bus";
import { resolveSettings, type ServiceDefinition, ServiceHost } from "@blossom/host";
import { createLogger } from "@blossom/runtime";
import { testSigningKey } from "@blossom/testkit";
import type { Static, TObject } from "@sinclair/typebox";
import { paymentsEvents } from "../events/contracts.js";
import { paymentsService } from "../service.js";
import type { PaymentsSettingsSchema } from "../settings.js";
import type { PaymentsTables } from "../store/tables.js";

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface PaymentsHarness {
  host: ServiceHost<PaymentsTables, PaymentsSettingsSchema>;
  bus: MemoryBus;
  url: string;
  /** Every log line the service wrote, raw JSON. */
  logLines: string[];
  /** Every event payments published, in order. */
  published: EventEnvelope[];
  token(userId: string, role?: "customer" | "admin"): Promise<string>;
  call<T = unknown>(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer<T>>;
  /** Publishes an event as orders would; resolves once payments has handled (or dead-lettered) it. */
  publish<S extends TObject>(
    contract: EventContract<S>,
    subject: string,
    data: Static<S>,
  ): Promise<EventEnvelope>;
  /** Publishes an existing envelope again (a redelivery of the same event id). */
  republish(envelope: EventEnvelope): Promise<void>;
  /** Sends what payments' outbox holds, so `published` is complete. */
  settle(): Promise<void>;
  /** The events payments published about one order, by type. */
  eventsOf(orderId: string): Array<{ type: string; data: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startPayments(
  options: {
    service?: ServiceDefinition<PaymentsTables, PaymentsSettingsSchema>;
    settings?: Record<string, unknown>;
  } = {},
): Promise<PaymentsHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), "blossom-payments-"));
  const logLines: string[] = [];
  const logger = createLogger({
    service: "payments",
    level: "trace",
    destination: { write: (line: string) => void logLines.push(line) },
  });
  const key = await testSigningKey();
  const bus = new MemoryBus();
  const service = options.service ?? paymentsService;
  const host = await ServiceHost.create(service, {
    bus,
    clients: {
      get(service: string): never {
        throw new Error(`payments tests have no client for ${service}`);
      },
    },
    logger,
    dataDir,
    host: "127.0.0.1",
    port: 0,
    seed: false,
    environment: "test",
    verifier: key.verifier,
    settings: resolveSettings(service.settings, options.settings ?? {}),
  });
  const published: EventEnvelope[] = [];
  await host.subscribe();
  await bus.subscribe(
    "payments-test-observer",
    paymentsEvents.map((contract) => contract.type),
    async (event) => {
      published.push(event);
    },
  );
  const url = await host.listen();

  return {
    host,
    bus,
    url,
    logLines,
    published,
    token: (userId, role = "customer") => key.token({ userId, role }, "10m"),
    async call<T>(
      method: string,
      path: string,
      request: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
    ): Promise<Answer<T>> {
      const headers: Record<string, string> = { ...request.headers };
      if (request.token) headers.authorization = `Bearer ${request.token}`;
      if (request.body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(`${url}${path}`, {
        method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: (text ? JSON.parse(text) : null) as T,
      };
    },
    async publish(contract, subject, data) {
      const envelope = createEnvelope("orders", { type: contract.type, subject, data, id: randomUUID() });
      await bus.publish([envelope]);
      return envelope;
    },
    async republish(envelope) {
      await bus.publish([envelope]);
    },
    async settle() {
      await host.flushOutbox();
    },
    eventsOf(orderId) {
      return published
        .filter((event) => event.subject === orderId)
        .map((event) => ({ type: event.type, data: event.data as Record<string, unknown> }));
    },
    async close() {
      await host.stopAccepting();
      await host.flushOutbox();
      await host.close();
      await bus.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
