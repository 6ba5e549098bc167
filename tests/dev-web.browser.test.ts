import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { freePort } from "@blossom/testkit";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./support/browser.js";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";

/**
 * `npm run dev:web`, as the README says to run it: Vite's dev server (hot reload) on apps/web,
 * pointed at a running platform through BLOSSOM_GATEWAY_URL (apps/web/vite.config.ts), with
 * `/api` and the JWKS proxied to that platform's gateway. Started as a child process in a process
 * group of its own (npm → vite), and stopped by signalling the whole group.
 */

const ROOT = resolve(import.meta.dirname, "..");
// biome-ignore lint/suspicious/noControlCharactersInRegex: Vite's output is coloured (ANSI escapes).
const ANSI = /\u001b\[[0-9;]*m/g;

describe("npm run dev:web (Vite, hot reload, /api proxied to a running platform)", () => {
  let platform: TestPlatform;
  let vite: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let output = "";
  let url = "";
  let port = 0;
  let browser: Browser | undefined;

  beforeAll(async () => {
    platform = await startTestPlatform({ BLOSSOM_ADMIN_PASSWORD: "admin password for the dev-web test" });
    port = await freePort();
    vite = spawn("npm", ["run", "dev:web"], {
      cwd: ROOT,
      detached: true, // a process group of its own: npm, sh and vite are stopped together
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        BLOSSOM_GATEWAY_URL: platform.gateway,
        WEB_DEV_PORT: String(port),
        NODE_ENV: "development",
      },
    });
    exited = new Promise((done) => vite.once("exit", (code, signal) => done({ code, signal })));
    const collect = (chunk: Buffer) => {
      output += chunk.toString().replace(ANSI, "");
    };
    vite.stdout?.on("data", collect);
    vite.stderr?.on("data", collect);
    // Ready when Vite prints its local URL (the port asked for, or the next free one).
    url = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`Vite did not start in 60 s:\n${output}`)), 60_000);
      const check = () => {
        const local = /Local:\s+(http:\/\/\S+?)\/?\s/.exec(output);
        if (local?.[1]) {
          clearTimeout(timer);
          done(local[1]);
        }
      };
      vite.stdout?.on("data", check);
      vite.once("exit", () => {
        clearTimeout(timer);
        fail(new Error(`npm run dev:web exited before Vite was ready:\n${output}`));
      });
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (vite && vite.exitCode === null && vite.signalCode === null && vite.pid) {
      try {
        process.kill(-vite.pid, "SIGTERM");
      } catch {}
      await exited;
    }
    await platform?.destroy();
  });

  it("serves the shop's sources on the port asked for", async () => {
    expect(url).toBe(`http://localhost:${port}`);
    const page = await fetch(`${url}/`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="root"></div>');
    expect(html).toContain("/src/main.tsx"); // the sources, not dist/
    expect(html).toContain("/@vite/client"); // hot reload
    // A client route falls back to index.html, as on the gateway.
    const route = await fetch(`${url}/orders/some-id`, { headers: { accept: "text/html" } });
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<div id="root"></div>');
  });

  it("proxies /api and the JWKS to the platform's gateway", async () => {
    const products = await fetch(`${url}/api/inventory/products?limit=2`);
    expect(products.status).toBe(200);
    const body = (await products.json()) as { items: Array<{ id: string; sku: string }> };
    expect(body.items).toHaveLength(2);
    // The very same answer as the gateway's own.
    const direct = (await (await fetch(`${platform.gateway}/api/inventory/products?limit=2`)).json()) as {
      items: Array<{ id: string }>;
    };
    expect(body.items.map((item) => item.id)).toEqual(direct.items.map((item) => item.id));
    const problem = await fetch(`${url}/api/orders`);
    expect(problem.status).toBe(401);
    expect(problem.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const jwks = await fetch(`${url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });

  it("renders the catalog in chromium from the dev server, with no console errors", async () => {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
    await page.goto(`${url}/`);
    await page.getByRole("heading", { level: 1, name: "Shop" }).waitFor({ timeout: 30_000 });
    // Products come from the platform, through Vite's proxy.
    await page.getByRole("list", { name: "Products" }).getByRole("link").first().waitFor({ timeout: 30_000 });
    await page.getByLabel("Search products").fill("lamp");
    await page.getByLabel("Search products").press("Enter");
    await page.getByRole("list", { name: "Products" }).getByRole("link", { name: /lamp/i }).first().waitFor();
    expect(errors, "console errors on the dev server's catalog").toEqual([]);
  });

  it("stops cleanly: the whole process group goes, and the port is free again", async () => {
    const pid = vite.pid as number;
    process.kill(-pid, "SIGTERM");
    const exit = await exited;
    expect(exit.code === 0 || exit.signal === "SIGTERM" || exit.code === 143, JSON.stringify(exit)).toBe(
      true,
    );
    // Nothing of the group left behind (kill 0 only asks whether it exists).
    await expect
      .poll(
        () => {
          try {
            process.kill(-pid, 0);
            return true;
          } catch {
            return false;
          }
        },
        { timeout: 10_000 },
      )
      .toBe(false);
    await expect(fetch(`${url}/`)).rejects.toThrow();
  });
});
