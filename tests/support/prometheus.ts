import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@blossom/testkit";

const INSTALL_HINT =
  "install Debian's Prometheus package (`apt-get install -y prometheus`, which provides both " +
  "`prometheus` and `promtool`), or put them on PATH";

/**
 * The path of a Prometheus binary (`prometheus` or `promtool`). Missing is a failure with the
 * way to install it, never a skip: these tests are what proves the alerting works.
 */
export function prometheusBinary(name: "prometheus" | "promtool"): string {
  for (const candidate of [name, `/usr/bin/${name}`]) {
    try {
      execFileSync(candidate, ["--version"], { stdio: "ignore" });
      return candidate;
    } catch {}
  }
  throw new Error(`${name} is not installed: ${INSTALL_HINT}`);
}

/**
 * Runs promtool; resolves with its output and exit code (a non-zero exit is not thrown). A
 * missing promtool throws: it must fail the test, not pass for an empty output.
 */
export function promtool(
  args: string[],
  options: { cwd?: string; input?: string } = {},
): { code: number; output: string } {
  const binary = prometheusBinary("promtool");
  try {
    const output = execFileSync(binary, args, {
      cwd: options.cwd,
      input: options.input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
    return { code: 0, output };
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    return { code: failed.status ?? 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

export interface ScrapeTarget {
  service: string;
  /** `host:port`. */
  address: string;
}

export interface RunningPrometheus {
  url: string;
  /** An instant query through the HTTP API; the result vector. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

/**
 * Starts a real Prometheus server of its own (never the system's on 9090): a free port, a
 * throwaway TSDB directory, scraping `targets` every second as deploy/observability/prometheus.yml
 * does (job `blossom`, a `service` label per target, honor_labels).
 */
export async function startPrometheus(targets: ScrapeTarget[]): Promise<RunningPrometheus> {
  const binary = prometheusBinary("prometheus");
  const dir = mkdtempSync(join(tmpdir(), "blossom-prometheus-"));
  const port = await freePort();
  const staticConfigs = targets
    .map((target) => `      - targets: ["${target.address}"]\n        labels: { service: ${target.service} }`)
    .join("\n");
  writeFileSync(
    join(dir, "prometheus.yml"),
    [
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "  evaluation_interval: 1s",
      "scrape_configs:",
      "  - job_name: blossom",
      "    honor_labels: true",
      "    static_configs:",
      staticConfigs,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString("utf8");
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`prometheus exited with ${child.exitCode}:\n${log}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready within 20 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: {
          resultType: string;
          result: Array<{ metric: Record<string, string>; value: [number, string] }>;
        };
      };
      if (body.status !== "success" || !body.data) throw new Error(`query ${promql} failed: ${body.error}`);
      return body.data.result;
    },
    stop,
  };
}
