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

/**
 * No access token or card number in the page's content, closed details (span attributes, log
 * fields) included; the footer's test-card hint is the shop's, outside `main`.
 */
async function expectNoSecrets(page: Page, where: string): Promise<void> {
  const text = await page.evaluate<string>('document.getElementById("main").textContent');
  expect(text, `a token on ${where}`).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/);
  expect(text, `a card number on ${where}`).not.toMatch(/4242\s?4242\s?4242\s?4242/);
}

describe("the operations console in a real browser (chromium, fresh embedded platform)", () => {
  let platform: TestPlatform;
  let browser: Browser;
  let shop: string;

  beforeAll(async () => {
    requireBuiltShop();
    // Tracing starts before the platform's modules are loaded (as the `blossom` bootstrap does),
    // hence the dynamic import; LOG_LEVEL info keeps a checkout's log lines (the kit's is warn).
    startTracing({ serviceName: "blossom", version: "test", environment: "test", env: {} });
    const { startTestPlatform } = await import("./support/embedded-platform.js");
    platform = await startTestPlatform({ BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_LEVEL: "info" });
    shop = platform.gateway.replace("127.0.0.1", "localhost");
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.destroy();
  });

  it("an admin sees the services, the trace and waterfall of a checkout just made, its logs, dead letters and the mailbox", async () => {
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
    for (const service of ["gateway", "orders"])
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

    // Messages: every consumer's dead letters (none on a healthy platform).
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
    await expectAccessible(page, "console: messages");
    await shot(page, "console-messages-desktop");

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
