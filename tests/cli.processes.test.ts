import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BlossomProcess, callHttp, freePort, spawnBlossom, waitForReady } from "@blossom/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { definitionOf, RUNNABLE_NAMES, SERVICE_NAMES } from "../apps/blossom/src/topology.js";

/**
 * `blossom` as an operator runs it: a real OS process (TypeScript sources through tsx), its exit
 * code, what it prints on stdout and stderr, and the databases it leaves behind.
 */
const SERVICES = SERVICE_NAMES;

/** A service's migrations in the order they run (name order), as declared beside its code. */
function migrationsOf(service: string): string[] {
  const definition = definitionOf(service);
  if (!definition) throw new Error(`no service ${service}`);
  return Object.keys(definition.migrations).sort();
}

/** Each test spawns a few processes of a few seconds each: slower when other suites share the CPU. */
const SPAWN_TIMEOUT_MS = 120_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const running: BlossomProcess[] = [];
const directories: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "blossom-cli-"));
  directories.push(dir);
  return dir;
}

/** Spawns `blossom <args>`, keeping stdout and stderr apart. */
function spawnSplit(args: string[], env: Record<string, string>) {
  const process_ = spawnBlossom(args, env);
  running.push(process_);
  let stdout = "";
  let stderr = "";
  process_.child.stdout?.on("data", (chunk) => {
    stdout += String(chunk);
  });
  process_.child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  return { process_, stdout: () => stdout, stderr: () => stderr };
}

/** Runs `blossom <args>` to completion (killed after `timeoutMs`). */
async function blossom(args: string[], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<Run> {
  const spawned = spawnSplit(args, env);
  const timer = setTimeout(() => spawned.process_.child.kill("SIGKILL"), timeoutMs);
  const { code, signal } = await spawned.process_.exited;
  clearTimeout(timer);
  return { code, signal, stdout: spawned.stdout(), stderr: spawned.stderr() };
}

/** A usage or configuration error: exit 2, nothing on stdout, `blossom: …` on stderr, no stack. */
function expectOperatorError(run: Run, what: string): string[] {
  const context = `${what}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
  expect(run.code, context).toBe(2);
  expect(run.stdout, context).toBe("");
  expect(run.stderr, context).not.toMatch(/^\s+at\s/m);
  expect(run.stderr, context).not.toMatch(/\.[cm]?[jt]s:\d+/);
  expect(run.stderr, context).not.toMatch(/failed to start/);
  const lines = run.stderr.split("\n").filter((line) => line.trim() !== "");
  expect(lines[0], context).toMatch(/^blossom: \S/);
  expect(lines.at(-1), context).toBe('Run "blossom --help" for usage.');
  return lines;
}

afterEach(async () => {
  for (const process_ of running.splice(0)) {
    if (process_.child.exitCode === null && process_.child.signalCode === null) {
      process_.child.kill("SIGKILL");
      await process_.exited;
    }
  }
});

afterAll(() => {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("blossom --help", { timeout: SPAWN_TIMEOUT_MS }, () => {
  it("prints the usage on stdout, names every command and service, and exits 0", async () => {
    const run = await blossom(["--help"], { PORT: "abc" });
    // The environment is not even read for --help: a broken variable does not hide the usage.
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^Usage:/m);
    for (const command of ["migrate up", "migrate down", "migrate status", "--steps", "--version"]) {
      expect(run.stdout).toContain(command);
    }
    expect(RUNNABLE_NAMES).toEqual(["gateway", ...SERVICES]);
    for (const service of RUNNABLE_NAMES) expect(run.stdout).toMatch(new RegExp(`\\b${service}\\b`));
  });
});

describe("usage and configuration errors", { timeout: SPAWN_TIMEOUT_MS }, () => {
  it("exits 2 with a one-line message and no stack trace for every kind of usage error", async () => {
    const cases: Array<{ args: string[]; message: RegExp }> = [
      { args: ["frobnicate"], message: /^blossom: unknown command "frobnicate"$/ },
      {
        args: ["start", "warehouse"],
        message: /^blossom: start: unknown service\(s\) warehouse \(one of .*users/,
      },
      { args: ["migrate", "up", "warehouse"], message: /^blossom: migrate: unknown service "warehouse"/ },
      { args: ["migrate", "down"], message: /^blossom: migrate down: name a service/ },
      { args: ["--frobnicate"], message: /^blossom: .*--frobnicate/ },
    ];
    // No data directory is touched by any of them: point it at one that must stay empty.
    const dataDir = join(tempDir(), "data");
    const runs = await Promise.all(cases.map(({ args }) => blossom(args, { BLOSSOM_DATA_DIR: dataDir })));
    cases.forEach(({ args, message }, index) => {
      const run = runs[index] as Run;
      const lines = expectOperatorError(run, `blossom ${args.join(" ")}`);
      expect(lines, `blossom ${args.join(" ")}`).toHaveLength(2);
      expect(lines[0], `blossom ${args.join(" ")}`).toMatch(message);
    });
    expect(existsSync(dataDir), "a rejected command created the data directory").toBe(false);
  });

  it("takes what to start from BLOSSOM_SERVICE when given no names (one image for every service)", async () => {
    const run = await blossom(["start"], { BLOSSOM_SERVICE: "users,warehouse", BLOSSOM_DATA_DIR: tempDir() });
    const lines = expectOperatorError(run, "BLOSSOM_SERVICE=users,warehouse blossom start");
    expect(lines[0]).toMatch(/^blossom: start: unknown service\(s\) warehouse \(one of .*users/);
  });

  it("exits 2 naming every bad variable, with no stack trace", async () => {
    const run = await blossom(["start"], { PORT: "abc", LOG_LEVEL: "loud", USERS_DATABASE_URL: "mysql://x" });
    const lines = expectOperatorError(
      run,
      "PORT=abc LOG_LEVEL=loud USERS_DATABASE_URL=mysql://x blossom start",
    );
    expect(lines[0]).toBe("blossom: Invalid configuration:");
    const problems = lines.slice(1, -1).map((line) => line.trim());
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^- PORT = "abc"/),
        expect.stringMatching(/^- LOG_LEVEL = "loud"/),
        expect.stringMatching(/^- USERS_DATABASE_URL = "mysql:\/\/x"/),
      ]),
    );
  });
});

describe("blossom migrate on a fresh data directory", { timeout: SPAWN_TIMEOUT_MS }, () => {
  let env: Record<string, string>;
  beforeAll(() => {
    env = { BLOSSOM_DATA_DIR: join(tempDir(), "data"), LOG_LEVEL: "warn" };
  });

  /** `migrate status <service>` as [state, migration] pairs, checking every line names the service. */
  async function status(service: string): Promise<Array<[string, string]>> {
    const run = await blossom(["migrate", "status", service], env);
    expect(run.code, run.stderr).toBe(0);
    return run.stdout
      .trimEnd()
      .split("\n")
      .map((line) => {
        const match = /^(\w+) {2}(pending|applied \S+) {2}(\S+)$/.exec(line);
        expect(match, `unexpected status line: ${line}`).not.toBeNull();
        expect(match?.[1]).toBe(service);
        return [match?.[2]?.split(" ")[0] ?? "", match?.[3] ?? ""];
      });
  }

  it("status lists every migration of the service as pending", async () => {
    const users = migrationsOf("users");
    expect(users.length).toBeGreaterThanOrEqual(2);
    expect(await status("users")).toEqual(users.map((name) => ["pending", name]));
  });

  it("up all applies every service's migrations; a second run is up to date", async () => {
    const first = await blossom(["migrate", "up", "all"], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(
      SERVICES.map((service) => `${service}: applied ${migrationsOf(service).join(", ")}\n`).join(""),
    );

    const second = await blossom(["migrate", "up", "all"], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(SERVICES.map((service) => `${service}: up to date\n`).join(""));
  });

  it("down users reverts exactly the last migration, and up users re-applies it", async () => {
    const users = migrationsOf("users");
    const last = users.at(-1) ?? "";
    const down = await blossom(["migrate", "down", "users"], env);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toBe(`users: reverted ${last}\n`);
    expect(await status("users")).toEqual(users.map((name) => [name === last ? "pending" : "applied", name]));

    const up = await blossom(["migrate", "up", "users"], env);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toBe(`users: applied ${last}\n`);
  });
});

describe("blossom start <one service>", { timeout: SPAWN_TIMEOUT_MS }, () => {
  it("runs only that service on its port, healthy, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const spawned = spawnSplit(["start", "users"], {
      BLOSSOM_DATA_DIR: join(tempDir(), "data"),
      USERS_PORT: String(port),
      LOG_LEVEL: "warn",
    });
    await waitForReady(spawned.process_);
    const stdout = spawned.stdout();
    const table = stdout.slice(stdout.indexOf("Blossom is ready")).split("\n");
    const rows = table
      .slice(2)
      .filter((line) => line.startsWith("  "))
      .map((line) => line.trim().split(/ {2,}/));
    expect(table[1]?.trim().split(/\s+/), stdout).toEqual(["SERVICE", "URL", "DATABASE", "BUS"]);
    expect(rows, stdout).toEqual([
      ["users", `http://127.0.0.1:${port}`, expect.stringMatching(/^pglite /), "memory"],
    ]);

    const base = `http://127.0.0.1:${port}`;
    const ready = await callHttp<{ service: string; status: string }>(base, "GET", "/health/ready");
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ service: "users", status: "ready" });
    const live = await callHttp<{ service: string; status: string }>(base, "GET", "/health/live");
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ service: "users", status: "live" });
    // Only users runs here: the inventory route is not served on this port.
    expect((await callHttp(base, "GET", "/api/inventory/products")).status).toBe(404);

    spawned.process_.child.kill("SIGTERM");
    expect(await spawned.process_.exited, spawned.process_.output()).toEqual({ code: 0, signal: null });
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });
});
