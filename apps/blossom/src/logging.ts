import type { Logger, LogRing } from "@blossom/runtime";
import type { PlatformConfig } from "./config.js";
import { serviceSetting } from "./config.js";
import { platformLoggers } from "./platform-loggers.js";

/** Whether log lines are written for a reader (LOG_FORMAT, or auto: on a terminal). */
export function prettyLogs(config: PlatformConfig): boolean {
  return config.LOG_FORMAT === "pretty" || (config.LOG_FORMAT === "auto" && process.stdout.isTTY === true);
}

/**
 * JSON lines when piped (for log shippers), readable colour on a terminal, unless LOG_FORMAT says
 * otherwise; with a `ring`, every line is also kept there (the operations console's logs).
 */
export function loggerFactory(config: PlatformConfig): (service: string, ring?: LogRing) => Logger {
  return platformLoggers({
    pretty: prettyLogs(config),
    levelOf: (service) => serviceSetting(config, service, "LOG_LEVEL") ?? config.LOG_LEVEL,
  });
}
