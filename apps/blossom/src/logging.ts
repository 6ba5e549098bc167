import { createLogger, type Logger, type LogRing } from "@blossom/runtime";
import pretty from "pino-pretty";
import type { PlatformConfig } from "./config.js";
import { serviceSetting } from "./config.js";

/**
 * JSON lines when piped (for log shippers), readable colour on a terminal, unless LOG_FORMAT says
 * otherwise; with a `ring`, every line is also kept there (the operations console's logs).
 */
export function loggerFactory(config: PlatformConfig): (service: string, ring?: LogRing) => Logger {
  const usePretty =
    config.LOG_FORMAT === "pretty" || (config.LOG_FORMAT === "auto" && process.stdout.isTTY === true);
  const destination = usePretty
    ? pretty({
        colorize: true,
        sync: true,
        translateTime: "HH:MM:ss.l",
        ignore: "pid,hostname,instance",
        messageFormat: "{service} {msg}",
      })
    : undefined;
  return (service, ring) =>
    createLogger({
      service,
      level: serviceSetting(config, service, "LOG_LEVEL") ?? config.LOG_LEVEL,
      ...(destination ? { destination } : {}),
      ...(ring ? { ring } : {}),
    });
}
