import { gzipSync } from "node:zlib";
import type { Browser, Locator, Page } from "playwright-core";
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
  type Watched,
} from "./support/browser.js";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";

/**
 * The storefront as a person uses it: Debian's chromium (playwright-core, no browser download)
 * on a fresh embedded platform whose gateway serves the built shop (apps/web/dist). Pages are
 * driven by role, label and text, never by CSS class. Every page visited is checked with
 * axe-core (no serious or critical violation) and for console errors; the catalog's JavaScript
 * must stay within 150 kB gzipped. Screenshots (1280 px and 390 px) go to docs/screenshots/.
 */

const JS_BUDGET_BYTES = 150 * 1024;
const ADMIN_EMAIL = "admin@blossom.local";
const ADMIN_PASSWORD = "admin password for browser tests";

/** Forgets console errors of a step that provokes an API error on purpose (the browser logs its status). */
function forgetExpectedHttpErrors(watched: Watched, status: number): void {
  const expected = new RegExp(`status of ${status}\\b`);
  watched.errors.splice(0, watched.errors.length, ...watched.errors.filter((line) => !expected.test(line)));
}

/** Forgets the browser's own log lines of requests that were made to fail (a refused connection). */
function forgetExpectedNetworkErrors(watched: Watched): void {
  watched.errors.splice(
    0,
    watched.errors.length,
    ...watched.errors.filter((line) => !/net::ERR_(CONNECTION_REFUSED|FAILED)/.test(line)),
  );
}

/**
 * Moves the keyboard focus with Tab (or Shift+Tab) until `target` has it, as a keyboard user
 * does; fails if it never gets there (a control that cannot be reached without a mouse).
 */
async function tabTo(
  page: Page,
  target: Locator,
  key: "Tab" | "Shift+Tab" = "Tab",
  most = 40,
): Promise<void> {
  const focused = page.locator(":focus");
  for (let presses = 0; presses < most; presses++) {
    await page.keyboard.press(key);
    if ((await target.and(focused).count()) > 0) return;
  }
  throw new Error(`${key} × ${most} never reached ${target}`);
}

describe("the storefront in a real browser (chromium, fresh embedded platform)", () => {
  let platform: TestPlatform;
  let browser: Browser;
  let shop: string;

  beforeAll(async () => {
    requireBuiltShop();
    platform = await startTestPlatform({ BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD });
    // `localhost`, a secure context for Chromium, so the Secure refresh cookie is kept over http.
    shop = platform.gateway.replace("127.0.0.1", "localhost");
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.destroy();
  });

  it("a new customer signs up, searches, buys two items with 4242…, sees it confirmed live, and is mailed", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const watched = await openWatched(context);
    const { page } = watched;

    // The catalog, and what it costs to load.
    const scripts: string[] = [];
    page.on("response", (response) => {
      if (response.request().resourceType() === "script") scripts.push(response.url());
    });
    await page.goto(`${shop}/`);
    await page.getByRole("heading", { level: 1, name: "Shop" }).waitFor();
    await page.getByRole("list", { name: "Products" }).waitFor();
    let gzipped = 0;
    for (const url of scripts)
      gzipped += gzipSync(Buffer.from(await (await fetch(url)).arrayBuffer())).length;
    expect(scripts.length).toBeGreaterThan(0);
    expect(gzipped, `catalog JavaScript, gzipped: ${gzipped} bytes`).toBeLessThanOrEqual(JS_BUDGET_BYTES);
    const paint = await page.evaluate<number>(
      'performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Number.NaN',
    );
    expect(paint, "first contentful paint (ms)").toBeLessThanOrEqual(1000);
    await expectAccessible(page, "the catalog");
    await shot(page, "catalog-desktop");

    // Sign up (and so signed in).
    await page.getByRole("link", { name: "Create account" }).click();
    await page.getByLabel("Name").fill("Ann Browser");
    const email = `ann-${Date.now()}@example.com`;
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery");
    await expectAccessible(page, "sign up");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();

    // Find a lamp by search; open it; add it.
    await page.getByLabel("Search products").fill("lamp");
    await page.getByLabel("Search products").press("Enter");
    const lamp = page.getByRole("list", { name: "Products" }).getByRole("link", { name: /lamp/i }).first();
    await lamp.waitFor();
    await lamp.click();
    await page.getByRole("heading", { level: 1, name: /lamp/i }).waitFor();
    await expect
      .poll(() =>
        page
          .getByText(/\$\d+\.\d{2}/)
          .first()
          .isVisible(),
      )
      .toBe(true);
    await expectAccessible(page, "a product page");
    await shot(page, "product-desktop");
    await page.getByRole("button", { name: "Add to cart" }).click();
    await page.getByText("Added to your cart.").waitFor();

    // A second item, from the catalog's kitchen category.
    await page.getByRole("link", { name: "Shop" }).first().click();
    await page.getByLabel("Category").selectOption("kitchen");
    const kitchen = page.getByRole("list", { name: "Products" });
    await kitchen
      .getByRole("button", { name: /^Add to cart \(/ })
      .first()
      .click();
    await page.getByText(/^Added .* to your cart\.$/).waitFor();

    // The cart: two lines.
    await page.getByRole("link", { name: /^Cart/ }).click();
    await page.getByRole("heading", { name: "Your cart" }).waitFor();
    await expect.poll(() => page.getByRole("table").getByRole("row").count()).toBe(4); // head, 2 lines, total
    await expectAccessible(page, "the cart");
    await shot(page, "cart-desktop");

    // Checkout: the API's validation error shows next to its field, then a good address and 4242….
    await page.getByRole("link", { name: "Check out" }).click();
    await page.getByRole("heading", { name: "Checkout" }).waitFor();
    await page.getByLabel("Street address").fill("1 Main Street");
    await page.getByLabel("City").fill("Springfield");
    await page.getByLabel("Card number").fill("4242 4242 4242 4242");
    await page.getByLabel("Expiry month").fill("12");
    await page.getByLabel("Expiry year").fill(String(new Date().getFullYear() + 3));
    await page.getByLabel("CVC").fill("123");
    await page.getByRole("button", { name: "Place order" }).click();
    await page.getByText("Please correct the highlighted fields.").waitFor();
    await expect.poll(() => page.getByLabel("Postal code").getAttribute("aria-invalid")).toBe("true");
    forgetExpectedHttpErrors(watched, 400);
    await expectAccessible(page, "checkout with a field error");
    await shot(page, "checkout-desktop");
    await page.getByLabel("Postal code").fill("12345");
    await page.getByRole("button", { name: "Place order" }).click();

    // The order page follows the saga live (Prefer: wait), to confirmed.
    await page.getByRole("heading", { name: /^Order / }).waitFor();
    await page.getByText("Order confirmed.").waitFor({ timeout: 10_000 });
    await page.getByText("Paid").waitFor();
    await expectAccessible(page, "a confirmed order");
    await shot(page, "order-confirmed-desktop");
    expect(page.url()).toMatch(/\/orders\/[0-9a-f-]{36}$/);
    // The cart is emptied; the header says so.
    await expect.poll(() => page.getByRole("link", { name: "Cart", exact: true }).isVisible()).toBe(true);

    // A reload keeps the session (the refresh cookie) and the page.
    await page.reload();
    await page.getByText("Order confirmed.").waitFor();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    // No token anywhere scripts can read.
    const stored = await page.evaluate<string>("JSON.stringify({ ...localStorage }) + document.cookie");
    expect(stored).not.toMatch(/eyJ|refresh/i);

    // The confirmation in the inbox.
    await page.getByRole("link", { name: "Inbox" }).click();
    await page.getByRole("heading", { name: "Inbox" }).waitFor();
    await expect
      .poll(
        async () => {
          if (
            await page
              .getByText(/confirm/i)
              .first()
              .isVisible()
          )
            return true;
          await page.getByRole("button", { name: "Check for new messages" }).click();
          return false;
        },
        { timeout: 10_000, interval: 500 },
      )
      .toBe(true);
    await expectAccessible(page, "the inbox");
    await shot(page, "inbox-desktop");
    expectNoConsoleErrors(watched, "the purchase journey");
    await context.close();
  });

  it("cancels another order and shows the refund; a declined card is said in words; history, 404 and sign-out", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const watched = await openWatched(context);
    const { page } = watched;
    await page.goto(`${shop}/signup`);
    await page.getByLabel("Name").fill("Bo Browser");
    await page.getByLabel("Email").fill(`bo-${Date.now()}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();

    const checkout = async (card: string) => {
      await page.getByRole("link", { name: "Shop" }).first().click();
      await page.getByLabel("Category").selectOption("garden");
      await page
        .getByRole("list", { name: "Products" })
        .getByRole("button", { name: /^Add to cart \(/ })
        .first()
        .click();
      await page.getByRole("link", { name: /^Cart/ }).click();
      await page.getByRole("link", { name: "Check out" }).click();
      await page.getByLabel("Street address").fill("2 Oak Road");
      await page.getByLabel("City").fill("Shelbyville");
      await page.getByLabel("Postal code").fill("54321");
      if (await page.getByLabel("A new card").isVisible()) await page.getByLabel("A new card").check();
      await page.getByLabel("Card number").fill(card);
      await page.getByLabel("Expiry month").fill("11");
      await page.getByLabel("Expiry year").fill(String(new Date().getFullYear() + 2));
      await page.getByLabel("CVC").fill("321");
      await page.getByRole("button", { name: "Place order" }).click();
      await page.getByRole("heading", { name: /^Order / }).waitFor();
    };

    // Confirmed, then cancelled by the customer: the refund shows.
    await checkout("4242424242424242");
    await page.getByText("Order confirmed.").waitFor({ timeout: 10_000 });
    await page.getByRole("button", { name: "Cancel order" }).click();
    await page.getByText("You cancelled this order.").waitFor();
    await page.getByText(/Refunded/).waitFor({ timeout: 10_000 });
    await expectAccessible(page, "a cancelled order");
    await shot(page, "order-refunded-desktop");

    // A declined card.
    await checkout("4000 0000 0000 0002");
    await page.getByText(/Your card was declined/).waitFor({ timeout: 10_000 });
    await expectAccessible(page, "a declined order");
    await shot(page, "order-declined-desktop");

    // Order history.
    await page.getByRole("link", { name: "Orders", exact: true }).click();
    await page.getByRole("heading", { name: "Your orders" }).waitFor();
    await expect.poll(() => page.getByRole("table").getByRole("row").count()).toBe(3);
    await expectAccessible(page, "order history");
    await shot(page, "orders-desktop");

    // A page that does not exist.
    await page.goto(`${shop}/no/such/page`);
    await page.getByRole("heading", { name: "Page not found" }).waitFor();
    await expectAccessible(page, "the 404 page");

    // Sign out: a reload stays signed out.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("link", { name: "Sign in" }).waitFor();
    await page.reload();
    await page.getByRole("link", { name: "Sign in" }).waitFor();
    expectNoConsoleErrors(watched, "cancel, decline, history, 404, sign-out");

    // A wrong password is said in words.
    await page.getByRole("link", { name: "Sign in" }).click();
    await page.getByLabel("Email").fill("nobody@example.com");
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The email or the password is not correct.").waitFor();
    forgetExpectedHttpErrors(watched, 401);
    await expectAccessible(page, "sign in with an error");
    expectNoConsoleErrors(watched, "sign in");
    await context.close();
  });

  it("works at 390 px (phone): catalog, product and cart, with no horizontal scrolling", async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const watched = await openWatched(context);
    const { page } = watched;
    await page.goto(`${shop}/`);
    await page.getByRole("list", { name: "Products" }).waitFor();
    const overflow = () => page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(await overflow()).toBeLessThanOrEqual(0);
    await expectAccessible(page, "the catalog on a phone");
    await shot(page, "catalog-phone");
    await page.getByRole("list", { name: "Products" }).getByRole("link").first().click();
    await page.getByRole("button", { name: "Add to cart" }).click();
    await shot(page, "product-phone");
    await page.getByRole("link", { name: /^Cart/ }).click();
    await page.getByRole("heading", { name: "Your cart" }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await expectAccessible(page, "the cart on a phone");
    await shot(page, "cart-phone");
    expectNoConsoleErrors(watched, "the phone pages");
    await context.close();
  });
  it("an admin creates a product (field errors from the API), adjusts its stock (a 409 in words), reads the audit log; a customer is not let in", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const watched = await openWatched(context);
    const { page } = watched;
    await signIn(page, shop, ADMIN_EMAIL, ADMIN_PASSWORD);

    // The admin's products, reached from the header.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
    await page.getByRole("heading", { level: 1, name: "Products" }).waitFor();
    await page.getByRole("link", { name: "Edit Chef's Knife" }).waitFor();
    await expectAccessible(page, "admin: products");
    await shot(page, "admin-products-desktop");

    // A new product: an empty form is refused field by field, from the API's problem+json.
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "New product" }).click();
    await page.getByRole("heading", { level: 1, name: "New product" }).waitFor();
    await page.getByRole("button", { name: "Create product" }).click();
    await page.getByText("Please correct the highlighted fields.").waitFor();
    for (const label of ["SKU", "Name", "Category", "Price (USD)"])
      await expect
        .poll(() => page.getByLabel(label).getAttribute("aria-invalid"), { message: label })
        .toBe("true");
    await page.getByText("Enter a price.").waitFor();
    forgetExpectedHttpErrors(watched, 400);
    await expectAccessible(page, "admin: new product with field errors");
    await shot(page, "admin-new-product-desktop");

    // A negative price: the API's bound, said in money.
    const sku = `TST-${Date.now()}`;
    await page.getByLabel("SKU").fill("KIT-001");
    await page.getByLabel("Name").fill("Glass Vase");
    await page.getByLabel("Description").fill("Hand-blown vase, 30 cm");
    await page.getByLabel("Category").fill("desk");
    await page.getByLabel("Price (USD)").fill("-5");
    await page.getByLabel("Units in stock").fill("5");
    await page.getByRole("button", { name: "Create product" }).click();
    await page.getByText("The price cannot be below $0.00.").waitFor();
    forgetExpectedHttpErrors(watched, 400);
    // A SKU that exists: the 409 next to the SKU.
    await page.getByLabel("Price (USD)").fill("19.99");
    await page.getByText("Customers pay $19.99 (1999 cents).").waitFor();
    await page.getByRole("button", { name: "Create product" }).click();
    await page.getByText("A product with this SKU exists already: choose another.").waitFor();
    forgetExpectedHttpErrors(watched, 409);
    await page.getByLabel("SKU").fill(sku);
    await page.getByRole("button", { name: "Create product" }).click();
    await page.getByText("Product created.", { exact: false }).waitFor();
    await page.getByRole("heading", { level: 1, name: "Edit Glass Vase" }).waitFor();
    expect(await page.getByLabel("Price (USD)").inputValue()).toBe("19.99");

    // Stock: removing more than there is is refused (409), and the page says why, with the levels.
    await page.getByLabel("Change in stock (units)").fill("-10");
    await page.getByRole("button", { name: "Adjust stock" }).click();
    await page
      .getByText("There are 5 on the shelf and 0 reserved, so at most 5 can be removed now.", {
        exact: false,
      })
      .waitFor();
    forgetExpectedHttpErrors(watched, 409);
    await expectAccessible(page, "admin: a refused stock change");
    await page.getByLabel("Change in stock (units)").fill("20");
    await page.getByRole("button", { name: "Adjust stock" }).click();
    await page
      .getByText("Stock raised by 20: 25 on the shelf, 0 reserved for orders, 25 available to customers.")
      .waitFor();
    await expectAccessible(page, "admin: edit a product");
    await shot(page, "admin-product-desktop");

    // The audit log: what was done, by whom ("You"), newest first; filtered by action.
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    const log = page.getByRole("table");
    await log.getByRole("row").nth(1).waitFor();
    const newest = log.getByRole("row").nth(1);
    expect(await newest.getByRole("cell").nth(1).textContent()).toBe("stock.adjusted");
    expect(await newest.getByRole("cell").nth(2).textContent()).toBe("You");
    const details = newest.getByRole("cell").nth(4).getByRole("listitem");
    expect((await details.allTextContents()).sort()).toEqual([
      "after: 25",
      "before: 5",
      "delta: 20",
      "reserved: 0",
    ]);
    await expectAccessible(page, "admin: the audit log");
    await shot(page, "admin-audit-desktop");
    await page.getByLabel("Action").fill("product.created");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => log.getByRole("row").count()).toBe(2);
    expect(await log.getByRole("row").nth(1).textContent()).toMatch(/product\.created.*You.*price: \$19\.99/);
    // Another service's log.
    await page.getByLabel("Service").selectOption("users");
    await log.getByText("auth.login", { exact: false }).first().waitFor();
    expectNoConsoleErrors(watched, "the admin pages");
    await context.close();

    // A customer who opens an admin page is told, in words, that it is not for them.
    const customer = await openWatched(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    await signUp(customer.page, shop, "Cy Customer");
    expect(await customer.page.getByRole("link", { name: "Admin" }).count()).toBe(0);
    await customer.page.goto(`${shop}/admin/audit`);
    await customer.page.getByRole("heading", { level: 1, name: "Not allowed" }).waitFor();
    await customer.page.getByText("This page is for the shop's administrators.", { exact: false }).waitFor();
    await expectAccessible(customer.page, "admin page, as a customer");
    await shot(customer.page, "admin-not-allowed-desktop");
    expectNoConsoleErrors(customer, "an admin page as a customer");
    await customer.page.context().close();
  });

  it("an admin changes a price; a customer sees it, checks out with the keyboard alone, and is charged it", async () => {
    // The admin lowers the hammock's price from $54.00 to $49.50.
    const admin = await openWatched(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    await signIn(admin.page, shop, ADMIN_EMAIL, ADMIN_PASSWORD);
    await admin.page.goto(`${shop}/admin?q=hammock`);
    await admin.page.getByRole("link", { name: "Edit Hammock" }).click();
    await admin.page.getByRole("heading", { level: 1, name: "Edit Hammock" }).waitFor();
    expect(await admin.page.getByLabel("Price (USD)").inputValue()).toBe("54.00");
    await admin.page.getByLabel("Price (USD)").fill("49.50");
    await admin.page.getByRole("button", { name: "Save changes" }).click();
    await admin.page.getByText("Saved. Customers see the new price, $49.50, from now on.").waitFor();
    expectNoConsoleErrors(admin, "the admin's price change");
    await admin.page.context().close();

    // A customer finds it at the new price and puts two in the cart.
    const watched = await openWatched(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    const { page } = watched;
    await signUp(page, shop, "Di Keyboard");
    await page.getByLabel("Search products").fill("hammock");
    await page.getByLabel("Search products").press("Enter");
    const card = page
      .getByRole("list", { name: "Products" })
      .getByRole("listitem")
      .filter({ hasText: "Hammock" });
    await card.getByText("$49.50").waitFor();
    await card.getByRole("link", { name: "Hammock" }).click();
    await page.getByRole("heading", { level: 1, name: "Hammock" }).waitFor();
    await page.getByText("$49.50").waitFor();
    await page.getByLabel("Quantity").fill("2");
    await page.getByRole("button", { name: "Add to cart" }).click();
    await page.getByRole("link", { name: /^Cart/ }).click();
    await page.getByRole("heading", { name: "Your cart" }).waitFor();
    await page.getByRole("table").getByText("$99.00").first().waitFor();

    // From here to the confirmed order, the keyboard alone: Tab, Shift+Tab, typing, Enter, Space.
    await tabTo(page, page.getByRole("link", { name: "Check out" }));
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Checkout" }).waitFor();
    await tabTo(page, page.getByLabel("Full name"));
    expect(await page.getByLabel("Full name").inputValue()).toBe("Di Keyboard");
    await page.keyboard.press("Tab");
    await page.keyboard.type("3 Elm Street");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Capital City");
    await page.keyboard.press("Tab");
    await page.keyboard.type("10001");
    await tabTo(page, page.getByLabel("Card number"));
    await page.keyboard.type("4242 4242 4242 4242");
    await page.keyboard.press("Tab");
    await page.keyboard.type("12");
    await page.keyboard.press("Tab");
    await page.keyboard.type("20"); // a slip: two digits of the year…
    await page.keyboard.press("Tab");
    await page.keyboard.type("123");
    // …gone back to with Shift+Tab (focus by keyboard selects the field's text) and typed again.
    await tabTo(page, page.getByLabel("Expiry year"), "Shift+Tab", 1);
    await page.keyboard.type(String(new Date().getFullYear() + 4));
    const typed: Array<[string, string]> = [
      ["Street address", "3 Elm Street"],
      ["City", "Capital City"],
      ["Postal code", "10001"],
      ["Country code", "US"],
      ["Expiry year", String(new Date().getFullYear() + 4)],
      ["CVC", "123"],
    ];
    for (const [label, value] of typed) expect(await page.getByLabel(label).inputValue(), label).toBe(value);
    await tabTo(page, page.getByRole("button", { name: "Place order" }));
    await page.keyboard.press("Space");

    // Confirmed live, at the admin's price: 2 × $49.50.
    await page.getByRole("heading", { name: /^Order / }).waitFor();
    await page.getByText("Order confirmed.").waitFor({ timeout: 10_000 });
    await page.getByText("2 × $49.50 = $99.00").waitFor();
    await page.getByText("Total $99.00").waitFor();
    await page.getByText("Paid").waitFor();
    expectNoConsoleErrors(watched, "the keyboard checkout");
    await page.context().close();
  });

  it("pages through the catalog with the API's cursors, and back; notification preferences are saved", async () => {
    const watched = await openWatched(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    const { page } = watched;
    const names = () => page.getByRole("list", { name: "Products" }).getByRole("heading").allTextContents();
    await page.goto(`${shop}/`);
    await page.getByRole("list", { name: "Products" }).waitFor();
    const first = await names();
    expect(first).toHaveLength(12);
    await page.getByRole("navigation", { name: "Pages" }).getByRole("button", { name: "Next page" }).click();
    await page.getByText("Page 2").waitFor();
    expect(new URL(page.url()).searchParams.get("cursor")).toBeTruthy();
    await expect.poll(async () => (await names()).some((name) => first.includes(name))).toBe(false);
    expect((await names()).length).toBeGreaterThan(0);
    await expectAccessible(page, "the catalog, page 2");
    await page.getByRole("button", { name: "Previous page" }).click();
    await expect.poll(names).toEqual(first);

    // The inbox's preferences: a channel turned off stays off after a reload.
    await signUp(page, shop, "Flo Prefs");
    await page.getByRole("link", { name: "Inbox" }).click();
    await page.getByRole("heading", { name: "Inbox" }).waitFor();
    const sms = page.getByLabel("Text message (SMS)");
    const wasOn = await sms.isChecked();
    await sms.setChecked(!wasOn);
    await page.getByRole("button", { name: "Save preferences" }).click();
    await page.getByText("Preferences saved.").waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Inbox" }).waitFor();
    await expect.poll(() => page.getByLabel("Text message (SMS)").isChecked()).toBe(!wasOn);
    await expectAccessible(page, "the inbox's preferences");
    expectNoConsoleErrors(watched, "pagination and preferences");
    await page.context().close();
  });

  it("says every other error in words: out of stock, insufficient funds, rate limited (with the wait), the platform unreachable, an expired session", async () => {
    // The admin, through the API: a product with one unit left.
    const login = await fetch(`${platform.gateway}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const admin = { authorization: `Bearer ${accessToken}`, "content-type": "application/json" };
    const created = await fetch(`${platform.gateway}/api/inventory/products`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        sku: `LAST-${Date.now()}`,
        name: "Last Teapot",
        description: "The only one left",
        category: "tea",
        price: { amount: 2500, currency: "USD" },
        stock: 1,
      }),
    });
    expect(created.status).toBe(201);
    const teapot = (await created.json()) as { id: string };

    const watched = await openWatched(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    const { page } = watched;
    const email = `eve-${Date.now()}@example.com`;
    await page.goto(`${shop}/signup`);
    await page.getByLabel("Name").fill("Eve Errors");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();

    // `saved`: a card is saved already (the list loads after the form: wait for it, then pick a new card).
    const checkout = async (card: string, saved: boolean) => {
      await page.getByRole("link", { name: /^Cart/ }).click();
      await page.getByRole("link", { name: "Check out" }).click();
      await page.getByLabel("Street address").fill("5 Error Lane");
      await page.getByLabel("City").fill("Ogdenville");
      await page.getByLabel("Postal code").fill("67890");
      if (saved) await page.getByLabel("A new card").check();
      await page.getByLabel("Card number").fill(card);
      await page.getByLabel("Expiry month").fill("10");
      await page.getByLabel("Expiry year").fill(String(new Date().getFullYear() + 2));
      await page.getByLabel("CVC").fill("456");
      await page.getByRole("button", { name: "Place order" }).click();
      await page.getByRole("heading", { name: /^Order / }).waitFor();
    };

    // Out of stock: the last unit goes (an admin's correction) while it sits in the cart.
    await page.goto(`${shop}/products/${teapot.id}`);
    await page.getByRole("heading", { level: 1, name: "Last Teapot" }).waitFor();
    await page.getByRole("button", { name: "Add to cart" }).click();
    await page.getByText("Added to your cart.").waitFor();
    const removed = await fetch(`${platform.gateway}/api/inventory/products/${teapot.id}/stock`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ delta: -1 }),
    });
    expect(removed.status).toBe(200);
    await page.getByRole("link", { name: /^Cart/ }).click();
    await page.getByRole("heading", { name: "Your cart" }).waitFor();
    await page.getByText("Out of stock.").waitFor();
    await expectAccessible(page, "a cart with an item out of stock");
    await checkout("4242 4242 4242 4242", false);
    await page.getByText("Sorry: an item ran out of stock before we could reserve it.").waitFor({
      timeout: 10_000,
    });
    await expectAccessible(page, "an order cancelled for lack of stock");

    // Insufficient funds (the test card 4000 0000 0000 9995).
    await page.getByRole("link", { name: "Shop" }).first().click();
    await page.getByLabel("Category").selectOption("garden");
    await page
      .getByRole("list", { name: "Products" })
      .getByRole("button", { name: /^Add to cart \(/ })
      .first()
      .click();
    await checkout("4000 0000 0000 9995", true);
    await page.getByText("Your card was declined for insufficient funds.").waitFor({ timeout: 10_000 });
    await expectAccessible(page, "an order declined for insufficient funds");
    expectNoConsoleErrors(watched, "out of stock and insufficient funds");

    // Rate limited: the gateway's 429, with its Retry-After, said with the wait.
    const products = (url: URL) => url.pathname === "/api/inventory/products";
    await page.route(products, (route) =>
      route.fulfill({
        status: 429,
        headers: { "content-type": "application/problem+json", "retry-after": "7" },
        body: JSON.stringify({
          type: "https://blossom.dev/problems/rate-limited",
          title: "Too many requests",
          status: 429,
          detail: "Rate limit of 100 requests per minute exceeded; retry in 7 s.",
        }),
      }),
    );
    await page.getByRole("link", { name: "Shop" }).first().click();
    await page.getByText("Too many requests: please wait 7 seconds and try again.").waitFor();
    forgetExpectedHttpErrors(watched, 429);
    await expectAccessible(page, "the catalog, rate limited");
    await page.unroute(products);

    // The platform unreachable (every API call refused), even on a fresh page load: words, not a blank page.
    const everyApiCall = (url: URL) => url.pathname.startsWith("/api/");
    await page.route(everyApiCall, (route) => route.abort("connectionrefused"));
    await page.goto(`${shop}/`);
    await page.getByRole("heading", { level: 1, name: "Shop" }).waitFor();
    await page.getByText("The shop cannot be reached right now.", { exact: false }).first().waitFor();
    forgetExpectedNetworkErrors(watched);
    await expectAccessible(page, "the catalog, the platform unreachable");
    // Back again: the next load works, and the session (the refresh cookie) is still there.
    await page.unroute(everyApiCall);
    await page.reload();
    await page.getByRole("list", { name: "Products" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    expectNoConsoleErrors(watched, "rate limited and unreachable");

    // A session that expired: the access token is refused and the refresh cookie is gone.
    await page.context().clearCookies();
    const orders = (url: URL) => url.pathname === "/api/orders";
    await page.route(
      orders,
      (route) =>
        route.fulfill({
          status: 401,
          headers: { "content-type": "application/problem+json" },
          body: JSON.stringify({
            type: "https://blossom.dev/problems/unauthorized",
            title: "Unauthorized",
            status: 401,
            detail: "The access token has expired.",
          }),
        }),
      { times: 1 },
    );
    await page.getByRole("link", { name: "Orders", exact: true }).click();
    await page.getByText("Your session has expired.").waitFor();
    await page.getByRole("link", { name: "Sign in", exact: true }).waitFor();
    forgetExpectedHttpErrors(watched, 401);
    await expectAccessible(page, "an expired session");
    // Signing in again leads back to where the shopper was.
    await page.getByRole("link", { name: "Sign in again" }).click();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Your orders" }).waitFor();
    await expect.poll(() => page.getByRole("table").getByRole("row").count()).toBe(3);
    expectNoConsoleErrors(watched, "an expired session");
    await page.context().close();
  });
});
