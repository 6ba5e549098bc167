import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** The lowest port handed out: below it are the well-known and commonly configured ones. */
const LOWEST_PORT = 10_000;
const ATTEMPTS = 100;
/** Ports this process handed out already: never twice, even once they are free again. */
const handedOut = new Set<number>();

/**
 * A free TCP port on 127.0.0.1 for a process to listen on (bound then released): nothing
 * listens on it when it resolves.
 *
 * Chosen at random below the kernel's ephemeral range, not by listening on port 0. Why: a port
 * from the ephemeral range, released, can be taken by anything on the machine before the
 * process meant for it binds it: another test's `listen(0)`, or the source port of any outgoing
 * connection (to PostgreSQL, NATS, Redis). CI's distributed suite failed that way (a service
 * process exited with EADDRINUSE). Below the range the kernel assigns nothing by itself.
 */
export async function freePort(): Promise<number> {
  const highest = ephemeralRangeStart() - 1;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = LOWEST_PORT + Math.floor(Math.random() * (highest - LOWEST_PORT + 1));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found between ${LOWEST_PORT} and ${highest} in ${ATTEMPTS} tries`);
}

/** The first port of the kernel's ephemeral range (Linux's setting; 32768 elsewhere or if odd). */
export function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    const start = Number(low);
    return Number.isInteger(start) && start > LOWEST_PORT + 1_000 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}
