import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";

/**
 * What the browser suites (`npm run test:browser`) share: Debian's chromium through
 * playwright-core (no browser download), pages watched for console errors, axe-core, the shop's
 * sign-in and sign-up forms, screenshots.
 */

const ROOT = resolve(import.meta.dirname, "../..");
/** The built shop the gateway serves. */
export const WEB_DIST = join(ROOT, "apps/web/dist");
export const SCREENSHOTS = join(ROOT, "docs/screenshots");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Debian's chromium, headless; fails with what to install when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

/** Fails when the shop has not been built; makes the screenshots' directory. */
export function requireBuiltShop(): void {
  if (!existsSync(join(WEB_DIST, "index.html")))
    throw new Error("apps/web/dist is missing: run `npm run build:web` (npm install does it)");
  mkdirSync(SCREENSHOTS, { recursive: true });
}

export interface Watched {
  page: Page;
  /** Console errors and uncaught exceptions since the last `expectNoConsoleErrors`. */
  errors: string[];
}

/** A new page whose console errors and uncaught exceptions are collected. */
export async function openWatched(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  return { page, errors };
}

export function expectNoConsoleErrors(watched: Watched, where: string): void {
  expect(watched.errors, `console errors on ${where}`).toEqual([]);
}

/** axe-core on the page as it is now: no serious or critical violation (WCAG 2.1 A and AA). */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  // Evaluated through the DevTools protocol, not a <script> tag: the shop's CSP allows no inline script.
  await page.evaluate(AXE_SOURCE);
  // A string, run in the page: this file is type-checked without the DOM's types.
  const violations = await page.evaluate<
    Array<{ id: string; impact: string; help: string; targets: string[] }>
  >(`
    axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    }).then((result) => result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => JSON.stringify(node.target)).slice(0, 3),
    })))
  `);
  const serious = violations.filter(
    (violation) => violation.impact === "serious" || violation.impact === "critical",
  );
  expect(serious, `accessibility violations on ${where}`).toEqual([]);
}

/** Signs in through the shop's own form, as a person does. */
export async function signIn(page: Page, shop: string, email: string, password: string): Promise<void> {
  await page.goto(`${shop}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Signs a new customer up (and so in) through the shop's form; returns their email address. */
export async function signUp(page: Page, shop: string, name: string): Promise<string> {
  const email = `${name.toLowerCase().replace(/\W+/g, "-")}-${Date.now()}@example.com`;
  await page.goto(`${shop}/signup`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  return email;
}

/** A full-page screenshot to docs/screenshots/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
