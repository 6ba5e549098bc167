import { currentTracing } from "@blossom/telemetry";
import { afterAll, expect, it, vi } from "vitest";
import { bootstrapTracing } from "../apps/blossom/src/tracing-bootstrap.js";
import type { TestPlatform } from "./support/embedded-platform.js";
import { newTraceId, tracedCheckout } from "./support/traced-checkout.js";

// The clients of the cluster's servers and of what only production configures (OTLP export,
// SMTP, PostgreSQL) cost start-up time and memory in every thread that loads them: the embedded
// default must load none of them, all the way through a checkout. Which got loaded is seen through
// vi.mock; a file of its own (vitest.config.ts's ownProcess), because a module loaded by another
// test stays loaded, and tracing starts once per process.
const CLIENTS = [
  "ioredis",
  "@nats-io/transport-node",
  "@nats-io/jetstream",
  "nodemailer",
  "pg",
  "@opentelemetry/exporter-trace-otlp-http",
  "@opentelemetry/instrumentation-pg",
  // Used: seen loaded, so the test shows that it sees.
  "@opentelemetry/instrumentation-undici",
];
const loaded = new Set<string>();
// doMock, not the hoisted vi.mock: one per name in a loop. Every import of the platform comes after.
for (const name of CLIENTS) {
  vi.doMock(name, async (importOriginal) => {
    loaded.add(name);
    return importOriginal();
  });
}

let platform: TestPlatform | undefined;
afterAll(async () => {
  await platform?.destroy();
});

it("the embedded default loads no client of a server it does not use, through a whole checkout", async () => {
  // As `blossom start` does, with no variables set: tracing on (no OTLP endpoint), then the platform.
  await bootstrapTracing(["start"], {});
  expect(currentTracing()?.enabled).toBe(true);
  expect(currentTracing()?.exporting).toBe(false);
  const { startTestPlatform } = await import("./support/embedded-platform.js");
  // The gateway on the services' thread, so that its modules load where vi.mock sees them.
  platform = await startTestPlatform({ BLOSSOM_GATEWAY_THREAD: "main" });
  const { customer, order } = await tracedCheckout(platform.gateway, newTraceId());
  expect((await customer.settled(order.id)).status).toBe("confirmed");
  // The one the embedded default does use is seen: the mocks work.
  expect([...loaded]).toEqual(["@opentelemetry/instrumentation-undici"]);
}, 120_000);
