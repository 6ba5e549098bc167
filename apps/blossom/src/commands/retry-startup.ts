/** How long a starting process waits for a server (NATS) that does not answer yet. */
export const STARTUP_WAIT_MS = 30_000;

interface StartupLogger {
  warn(obj: object, msg?: string): void;
}

/**
 * Runs `attempt` until it succeeds or `waitMs` has passed, backing off from 250 ms to 2 s, and
 * rethrows the last error then. A replica restarted while the broker restarts (a rolling update of
 * NATS, a crash) waits for it instead of exiting and being restarted in a loop.
 */
export async function retryStartup<T>(
  what: string,
  attempt: () => Promise<T>,
  logger: StartupLogger,
  waitMs = STARTUP_WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  let delay = 250;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() + delay > deadline) throw error;
      logger.warn({ err: error, retry_in_ms: delay }, `${what} is not reachable yet; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
