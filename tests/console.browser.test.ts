import { randomUUID } from "node:crypto";
import { OrderConfirmed, OrderPlaced } from "@blossom/orders-contracts";
import { startTracing } from "@blossom/telemetry";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectAccessible,
  expectNoConsoleErrors,
  launchChromium,
  openWatched,
  requireBuiltShop,
  shot,
  signIn,
  signUp,
} from "./support/browser.js";
import type { TestPlatform } from "./support/embedded-platform.js";

/**
 * The operations console (/console, apps/web/src/console) as an admin uses it: Debian's chromium
 * (playwright-core) on a fresh embedded platform in this process. Pages are driven by role, label
 * and text; every console page is checked with axe-core (no serious or critical violation) and
 * for console errors. Screenshots (1280 px) go to docs/screenshots/console-*.png.
 */

const ADMIN_EMAIL = "admin@blossom.local";
const ADMIN_PASSWORD = "admin password for browser tests";
const CONFIRMED = OrderConfirmed.type;

interface Money {
  amount: number;
  currency: "USD";
}

/**
 * No access token or card number in the page's content, closed details (span attributes, log
 * fields) included; the footer's test-card hint is the shop's, outside `main`.
 */
async function expectNoSecrets(page: Page, where: string): Promise<void> {
  const text = await page.evaluate<string>('document.getElementById("main").textContent');
  expect(text, `a token on ${where}`).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/);
  expect(text, `a card number on ${where}`).not.toMatch(/4242\s?4242\s?4242\s?4242/);
}

/** One cell of the Messages page's "Per event type and consumer" table, by its column's header. */
async function flowCell(page: Page, eventType: string, consumer: string, column: string): Promise<string> {
  const flows = page.getByRole("table", { name: /^Per event type and consumer/ });
  const heads = (await flows.getByRole("columnheader").allInnerTexts()).map((head) => head.trim());
  const index = heads.indexOf(column);
  expect(index, `the column ${column} in ${heads.join(", ")}`).toBeGreaterThan(0);
  const row = flows
    .getByRole("row")
    .filter({ has: page.getByRole("rowheader", { name: eventType, exact: true }) })
    .filter({ has: page.getByRole("cell", { name: consumer, exact: true }) });
  if ((await row.count()) === 0) return "";
  // The row header is the first column: the cells start at the second.
  return row
    .getByRole("cell")
    .nth(index - 1)
    .innerText();
}

describe("the operations console in a real browser (chromium, fresh embedded platform)", () => {
  let platform: TestPlatform;
  let browser: Browser;
  let shop: string;

  beforeAll(async () => {
    requireBuiltShop();
    // Tracing starts before the platform's modules are loaded (as the `blossom` bootstrap does),
    // hence the dynamic import; LOG_LEVEL info keeps a checkout's log lines (the kit's is warn).
    await startTracing({ serviceName: "blossom", version: "test", environment: "test", env: {} });
    const { startTestPlatform } = await import("./support/embedded-platform.js");
    platform = await startTestPlatform({ BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_LEVEL: "info" });
    shop = platform.gateway.replace("127.0.0.1", "localhost");
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.destroy();
  });

  it("an admin sees the services, the trace and waterfall of a checkout just made, its logs, replays a dead letter and reads the mailbox", async () => {
    // A customer checks out (with the shop's own pages), so there is a trace to find.
    const customer = await openWatched(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    const customerEmail = await signUp(customer.page, shop, "Cat Console");
    await customer.page.goto(`${shop}/`);
    await customer.page
      .getByRole("list", { name: "Products" })
      .getByRole("button", { name: /^Add to cart \(/ })
      .first()
      .click();
    await customer.page.getByRole("link", { name: /^Cart/ }).click();
    await customer.page.getByRole("link", { name: "Check out" }).click();
    await customer.page.getByLabel("Street address").fill("3 Elm Street");
    await customer.page.getByLabel("City").fill("Capital City");
    await customer.page.getByLabel("Postal code").fill("11111");
    await customer.page.getByLabel("Card number").fill("4242 4242 4242 4242");
    await customer.page.getByLabel("Expiry month").fill("10");
    await customer.page.getByLabel("Expiry year").fill(String(new Date().getFullYear() + 2));
    await customer.page.getByLabel("CVC").fill("123");
    await customer.page.getByRole("button", { name: "Place order" }).click();
    await customer.page.getByText("Order confirmed.").waitFor({ timeout: 15_000 });
    const orderId = customer.page.url().split("/").pop() ?? "";
    expect(orderId).toMatch(/^[0-9a-f-]{36}$/);

    // A dead letter to replay later: events of one order arriving out of order. The confirmation
    // of another order of this customer comes before its placement, so inventory's consumer finds
    // no reservation to commit, fails (retryable) and, after its last delivery (the memory bus's
    // default backoff: within 8 s), dead-letters it. Payments has nothing to capture for it;
    // notifications mails the customer. Loaded after the platform, as the tracing wants.
    const { createEnvelope, DEFAULT_MAX_DELIVER } = await import("@blossom/bus");
    const { ShopClient, product } = await import("./support/shop-client.js");
    const adminApi = await ShopClient.logIn(platform.gateway, ADMIN_EMAIL, ADMIN_PASSWORD);
    const sagas = await adminApi.send<{ items: Array<{ id: string; userId: string | null }> }>(
      "GET",
      "/api/orders/sagas?status=confirmed&limit=100",
    );
    const userId = sagas.body.items.find((saga) => saga.id === orderId)?.userId ?? "";
    expect(userId).not.toBe("");
    // A seeded product the checkout did not buy, so that its stock moves only with this order.
    const bought = await adminApi.send<{ items: Array<{ productId: string }> }>(
      "GET",
      `/api/orders/${orderId}`,
    );
    expect(bought.status).toBe(200);
    const catalog = await adminApi.send<{ items: Array<{ id: string; available: number; price: Money }> }>(
      "GET",
      "/api/inventory/products?limit=100",
    );
    const spare = catalog.body.items.find(
      (item) => item.available >= 10 && !bought.body.items.some((line) => line.productId === item.id),
    );
    if (!spare) throw new Error("no seeded product left to order");
    const lateOrderId = randomUUID();
    const lateLine = { productId: spare.id, quantity: 2, unitPrice: spare.price };
    const lateOrder = {
      orderId: lateOrderId,
      userId,
      items: [lateLine],
      total: { amount: lateLine.quantity * spare.price.amount, currency: spare.price.currency },
    };
    const earlyConfirmation = createEnvelope("orders", {
      type: CONFIRMED,
      subject: lateOrderId,
      correlationId: lateOrderId,
      data: OrderConfirmed.parse(lateOrder),
    });
    const latePlacement = createEnvelope("orders", {
      type: OrderPlaced.type,
      subject: lateOrderId,
      correlationId: lateOrderId,
      data: OrderPlaced.parse({ ...lateOrder, paymentMethodId: randomUUID() }),
    });
    await platform.bus.publish([earlyConfirmation]);
    /**
     * A product's shelf stock and reserved units, as inventory's API tells them: on a correction
     * it must refuse (more units out than on the shelf), changing and recording nothing.
     */
    const stockLevels = async (productId: string) => {
      const refused = await adminApi.send<{ stock: number; reserved: number }>(
        "POST",
        `/api/inventory/products/${productId}/stock`,
        { delta: -1_000_000 },
      );
      expect(refused.status).toBe(409);
      return { stock: refused.body.stock, reserved: refused.body.reserved };
    };

    // A customer at /console is told it is not for them (served by the gateway's SPA fallback).
    await customer.page.goto(`${shop}/console`);
    await customer.page.getByRole("heading", { level: 1, name: "Not allowed" }).waitFor();
    await expect.poll(() => customer.page.getByRole("link", { name: "Console" }).count()).toBe(0);
    await expectAccessible(customer.page, "the console, as a customer");
    await shot(customer.page, "console-not-allowed-desktop");
    expectNoConsoleErrors(customer, "the console as a customer");

    const admin = await openWatched(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    const { page } = admin;
    await signIn(page, shop, ADMIN_EMAIL, ADMIN_PASSWORD);

    // Overview: every service ready, with its instances and request figures.
    await page.getByRole("link", { name: "Console" }).click();
    await page.getByRole("heading", { level: 1, name: "Operations console" }).waitFor();
    const services = page.getByRole("table");
    for (const service of ["gateway", "users", "inventory", "orders", "payments", "notifications"])
      await services.getByRole("rowheader", { name: service, exact: true }).waitFor();
    await expect.poll(() => services.getByText("● Ready").count(), { timeout: 10_000 }).toBe(6);
    await page.getByRole("img", { name: /^orders requests per second, 15 minutes/ }).waitFor();
    // The platform's charts: the checkout's confirmed outcome shows within the next 5 s sample.
    const platformPanel = page.getByRole("region", { name: "Platform" });
    for (const chart of [
      "Checkouts settled",
      "Checkout duration",
      "Outbox backlog",
      "Consumer lag",
      "Circuit breakers",
      "Rate-limit rejections",
    ])
      await platformPanel.getByRole("heading", { level: 3, name: chart }).waitFor();
    await platformPanel.getByText(/^Confirmed: [1-9]\d* in 15 minutes/).waitFor({ timeout: 12_000 });
    await platformPanel.getByRole("img", { name: /^Confirmed checkouts per second, 15 minutes/ }).waitFor();
    await expectAccessible(page, "console: overview");
    await shot(page, "console-overview-desktop");

    // Map: the gateway and the five services, each healthy, with their databases and the bus.
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Map" }).click();
    await page.getByRole("heading", { level: 1, name: "Service map" }).waitFor();
    for (const service of ["gateway", "users", "inventory", "orders", "payments", "notifications"])
      await page
        .getByRole("img", { name: new RegExp(`^${service}: ready, [1-9]\\d* instances?`) })
        .waitFor({ timeout: 10_000 });
    // The checkout's traffic reaches the map's edges within a sample or two (every 5 s).
    await page
      .getByRole("img", { name: /^orders: ready, .*, (?!0 requests)[\d.]+ requests\/s/ })
      .waitFor({ timeout: 15_000 });
    await page.getByRole("img", { name: "bus: ready" }).waitFor();
    await page.getByRole("img", { name: "orders database: ready" }).waitFor();
    await expectAccessible(page, "console: map");
    await shot(page, "console-map-desktop");

    // Traces: the checkout's trace, found by its order id; its waterfall across the services.
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Traces" }).click();
    await page.getByRole("heading", { level: 1, name: "Traces" }).waitFor();
    await page.getByRole("table").waitFor();
    await expectAccessible(page, "console: traces");
    await shot(page, "console-traces-desktop");
    await page.getByLabel("Order id").fill(orderId);
    await page.getByRole("button", { name: "Filter" }).click();
    const checkout = page.getByRole("link", { name: "POST /api/orders" }).first();
    await checkout.waitFor({ timeout: 10_000 });
    await checkout.click();
    await page.getByRole("heading", { level: 1, name: /^Trace [0-9a-f]{32}$/ }).waitFor();
    const waterfall = page.getByRole("table");
    await waterfall.getByRole("cell", { name: "bus: publish" }).first().waitFor();
    await waterfall.getByRole("cell", { name: "bus: process" }).first().waitFor();
    for (const service of ["gateway", "orders", "inventory", "payments", "notifications"])
      await waterfall.getByRole("cell", { name: service, exact: true }).first().waitFor();
    await expectAccessible(page, "console: a trace's waterfall");
    await expectNoSecrets(page, "a trace's waterfall");
    await shot(page, "console-trace-desktop");

    // The trace's logs.
    await page.getByRole("link", { name: "Logs of this trace" }).click();
    await page.getByRole("heading", { level: 1, name: "Logs" }).waitFor();
    await expect
      .poll(() => page.getByRole("table").getByRole("row").count(), { timeout: 10_000 })
      .toBeGreaterThan(1);
    expect(await page.getByLabel("Trace id").inputValue()).toMatch(/^[0-9a-f]{32}$/);
    // The order's logs, followed live.
    await page.getByLabel("Trace id").fill("");
    await page.getByLabel("Order id").fill(orderId);
    await page.getByRole("button", { name: "Filter" }).click();
    await expect
      .poll(() => page.getByRole("table").getByRole("row").count(), { timeout: 10_000 })
      .toBeGreaterThan(1);
    await page.getByLabel("Live tail").check();
    await page.getByText(/lines, oldest first, following\./).waitFor();
    await expectAccessible(page, "console: logs");
    await expectNoSecrets(page, "the logs");
    await shot(page, "console-logs-desktop");
    await page.getByLabel("Live tail").uncheck();

    // Sagas: the checkout's order, confirmed, with its steps.
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Sagas" }).click();
    await page.getByRole("heading", { level: 1, name: "Sagas" }).waitFor();
    await page.getByRole("button", { name: /^confirmed \d+$/ }).click();
    const sagaRow = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: orderId }) });
    await sagaRow.waitFor({ timeout: 10_000 });
    await sagaRow.getByRole("cell", { name: "confirmed", exact: true }).waitFor();
    const steps = sagaRow.getByRole("list", { name: `Steps of order ${orderId}` }).getByRole("listitem");
    await expect
      .poll(() => steps.allInnerTexts())
      .toEqual([expect.stringMatching(/^placed /), expect.stringMatching(/^confirmed .*\(\+/)]);
    await expectAccessible(page, "console: sagas");
    await expectNoSecrets(page, "the sagas");
    await shot(page, "console-sagas-desktop");

    // Messages: every consumer's dead letters, and the events' counts.
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Messages" }).click();
    await page.getByRole("heading", { level: 1, name: "Messages" }).waitFor();
    for (const service of ["users", "inventory", "orders", "payments", "notifications"])
      await page.getByRole("heading", { level: 2, name: service }).waitFor();
    await expect.poll(() => page.getByText("Loading…").count(), { timeout: 10_000 }).toBe(0);
    // The event counts from the metrics: the checkout's order-placed event was published.
    const flows = page.getByRole("table", { name: /^Per event type and consumer/ });
    const placed = flows
      .getByRole("row")
      .filter({ has: page.getByRole("rowheader", { name: "orders.order-placed.v1", exact: true }) })
      .first();
    await placed.waitFor({ timeout: 10_000 });
    // Cells after the row header: consumer, published, …
    expect(Number(await placed.getByRole("cell").nth(1).innerText())).toBeGreaterThanOrEqual(1);
    // How late that event reached inventory: its delivery delay p95 (over 15 minutes, and latest).
    await expect
      .poll(() => flowCell(page, "orders.order-placed.v1", "inventory", "Delivery delay p95"), {
        timeout: 12_000,
      })
      .toMatch(/^\d+(\.\d+)? m?s( \(latest \d+(\.\d+)? m?s\))?$/);
    await expectAccessible(page, "console: messages");
    await shot(page, "console-messages-desktop");

    // The dead letter planted above: inventory's consumer gave up on the early confirmation, with
    // its error and attempts shown (the list loads once: refreshed until the letter is there).
    const inventoryLetters = page.getByRole("region", { name: "inventory", exact: true });
    const letter = inventoryLetters.getByRole("listitem").filter({ hasText: lateOrderId });
    await expect
      .poll(
        async () => {
          await page.getByRole("button", { name: "Refresh inventory" }).click();
          await expect.poll(() => inventoryLetters.getByText("Loading…").count()).toBe(0);
          return letter.count();
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toBe(1);
    await letter.getByRole("heading", { level: 3, name: `${CONFIRMED} about ${lateOrderId}` }).waitFor();
    const letterText = await letter.innerText();
    expect(letterText).toMatch(
      new RegExp(`Error\\s+order ${lateOrderId} was confirmed but inventory never reserved it`),
    );
    expect(letterText).toMatch(new RegExp(`Attempts\\s+${DEFAULT_MAX_DELIVER}\\b`));
    const deadLetter = (
      await adminApi.send<{ items: Array<{ id: string; eventId: string; attempts: number }> }>(
        "GET",
        "/api/inventory/dead-letters?limit=100",
      )
    ).body.items.find((one) => one.eventId === earlyConfirmation.id);
    expect(deadLetter?.attempts).toBe(DEFAULT_MAX_DELIVER);
    const letterId = deadLetter?.id ?? "";
    expect(letterText).toContain(`${letterId} (event ${earlyConfirmation.id})`);
    // The counts say so too (from the metrics, sampled every 5 s): failed deliveries, one dead letter.
    const refreshCounts = () => page.getByRole("button", { name: "Refresh event counts" }).click();
    await expect
      .poll(
        async () => {
          await refreshCounts();
          return Number(await flowCell(page, CONFIRMED, "inventory", "Dead-lettered"));
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toBe(1);
    expect(Number(await flowCell(page, CONFIRMED, "inventory", "Failed"))).toBe(DEFAULT_MAX_DELIVER);
    const consumedBefore = Number(await flowCell(page, CONFIRMED, "inventory", "Consumed"));
    // The checkout's own confirmation was consumed (and committed its stock) before.
    expect(consumedBefore).toBeGreaterThanOrEqual(1);
    // Inspected: the event as published, and no secret.
    await letter.getByRole("button", { name: "Inspect" }).click();
    const inspected = letter.getByText(`"id": "${earlyConfirmation.id}"`);
    await inspected.waitFor();
    const eventText = await inspected.innerText();
    expect(eventText).toContain(`"type": "${CONFIRMED}"`);
    expect(eventText).toContain(`"orderId": "${lateOrderId}"`);
    expect(await letter.getByRole("button", { name: "Hide event" }).getAttribute("aria-expanded")).toBe(
      "true",
    );
    await expectAccessible(page, "console: a dead letter, inspected");
    await expectNoSecrets(page, "a dead letter's event");
    await shot(page, "console-dead-letter-desktop");

    // The order's placement finally arrives: inventory holds its units. A replay can now commit them.
    const availableBefore = (await product(platform.gateway, lateLine.productId)).available;
    await platform.bus.publish([latePlacement]);
    await expect
      .poll(async () => (await product(platform.gateway, lateLine.productId)).available, { timeout: 15_000 })
      .toBe(availableBefore - lateLine.quantity);
    const held = await stockLevels(lateLine.productId);
    expect(held.reserved).toBeGreaterThanOrEqual(lateLine.quantity);

    // Replayed from the page, confirmed first; the outcome said in words; the letter leaves the list.
    await letter.getByRole("button", { name: "Replay", exact: true }).click();
    const confirm = letter.getByRole("group", { name: "Replay this event?" });
    await confirm.getByText(`Deliver ${CONFIRMED} again to inventory's consumer?`).waitFor();
    await confirm.getByRole("button", { name: "Yes, replay" }).click();
    const outcome = page.getByRole("status");
    await outcome
      .getByText(
        `inventory: dead letter ${letterId} replayed. The event ${CONFIRMED} was delivered again to ` +
          "inventory's consumer: if it fails again, it comes back to this list as a new dead letter.",
        { exact: true },
      )
      .waitFor();
    await inventoryLetters.getByText("No dead letters.").waitFor({ timeout: 10_000 });
    // Handled: the reservation is committed (the units leave the shelf and the hold) …
    await expect
      .poll(() => stockLevels(lateLine.productId), { timeout: 15_000 })
      .toEqual({
        stock: held.stock - lateLine.quantity,
        reserved: held.reserved - lateLine.quantity,
      });
    // … so no new dead letter of the event can come, and the page counts one more consumed.
    const lettersAfter = await adminApi.send<{ items: Array<{ eventId: string }> }>(
      "GET",
      "/api/inventory/dead-letters?limit=100",
    );
    expect(lettersAfter.body.items.filter((one) => one.eventId === earlyConfirmation.id)).toEqual([]);
    await expect
      .poll(
        async () => {
          await refreshCounts();
          return Number(await flowCell(page, CONFIRMED, "inventory", "Consumed"));
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toBe(consumedBefore + 1);

    // The replay is in inventory's audit log, by this admin, on the admin audit page.
    await page.goto(`${shop}/admin/audit?service=inventory&action=dead-letter.replayed`);
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    const replayEntry = page
      .getByRole("row")
      .filter({ has: page.getByRole("cell", { name: `dead-letter:${letterId}`, exact: true }) });
    await replayEntry.waitFor({ timeout: 10_000 });
    expect(await replayEntry.count()).toBe(1);
    await replayEntry.getByRole("cell", { name: "You", exact: true }).waitFor();
    await replayEntry.getByText(`eventId: ${earlyConfirmation.id}`).waitFor();
    await replayEntry.getByText(`eventType: ${CONFIRMED}`).waitFor();
    await page.getByRole("link", { name: "Console" }).click();
    await page.getByRole("heading", { level: 1, name: "Operations console" }).waitFor();

    // Mailbox: what the customer was sent, bodies included: the order's confirmation email.
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Mailbox" }).click();
    await page.getByRole("heading", { level: 1, name: "Mailbox" }).waitFor();
    await page.getByLabel("Channel").selectOption("email");
    await page.getByLabel("Recipient (email address or user id)").fill(customerEmail);
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByRole("heading", { level: 2, name: `Sent to ${customerEmail}` }).waitFor();
    const confirmation = page.getByRole("article", {
      name: `Your order #${orderId.slice(0, 8).toUpperCase()} is confirmed`,
    });
    await confirmation.waitFor({ timeout: 15_000 });
    await confirmation.getByText(`Order id: ${orderId}`).waitFor();
    await page.getByRole("article", { name: /^Welcome/ }).waitFor();
    await expectAccessible(page, "console: mailbox");
    await expectNoSecrets(page, "the mailbox");
    await shot(page, "console-mailbox-desktop");

    expectNoConsoleErrors(admin, "the console");
    await admin.page.context().close();
    await customer.page.context().close();
  });
});
