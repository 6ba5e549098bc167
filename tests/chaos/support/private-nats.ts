import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const NATS_SERVER = process.env.BLOSSOM_TEST_NATS_SERVER ?? "/usr/sbin/nats-server";

/**
 * A NATS JetStream server of the chaos test's own, on its own port and store directory: the test
 * kills and restarts it, which must not disturb the machine's shared server (other suites use it).
 * A restart keeps the store directory, as a real broker restart keeps its disk.
 */
export class PrivateNats {
  readonly storeDir = mkdtempSync(join(tmpdir(), "blossom-chaos-nats-"));
  #child: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      NATS_SERVER,
      ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.storeDir],
      {
        stdio: "ignore",
      },
    );
    this.#child = child;
    const deadline = Date.now() + 15_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${this.port}`);
      await new Promise((done) => setTimeout(done, 100));
    }
  }

  /** SIGKILL, as a crashed broker: no goodbye to the clients. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGKILL");
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}
