import type { Logger } from "./logger.js";

export type ShutdownStep = { name: string; run: () => Promise<void> };

/**
 * Runs shutdown steps in order, each at most once, logging how long each took. A failing step is
 * logged and the next still runs: a stuck bus must not keep the database open.
 */
export async function runShutdown(steps: ShutdownStep[], logger: Logger): Promise<void> {
  for (const step of steps) {
    const started = performance.now();
    try {
      await step.run();
      logger.debug(
        { step: step.name, duration_ms: Math.round(performance.now() - started) },
        "shutdown step done",
      );
    } catch (error) {
      logger.error({ err: error, step: step.name }, "shutdown step failed");
    }
  }
}

/**
 * Calls `onSignal` on the first SIGTERM or SIGINT, then exits with 0 when it resolves (1 when it
 * throws). A second signal, or `timeoutMs` without finishing, exits at once with 1: an operator
 * pressing Ctrl-C twice means it.
 */
export function exitOnSignals(
  onSignal: (signal: NodeJS.Signals) => Promise<void>,
  logger: Logger,
  timeoutMs: number,
): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ timeout_ms: timeoutMs }, "shutdown took too long: exiting");
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    onSignal(signal).then(
      () => {
        logger.info("stopped");
        logger.flush?.();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}
