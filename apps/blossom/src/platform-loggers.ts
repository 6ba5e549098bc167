import { createLogger, type Logger, type LogRing } from "@blossom/runtime";
import pretty from "pino-pretty";

export interface PlatformLoggerOptions {
  /** Readable colour lines instead of JSON lines. */
  pretty: boolean;
  /** Each runnable's level. */
  levelOf: (service: string) => string;
}

/**
 * A logger per runnable: JSON lines (for log shippers) or readable colour; with a `ring`, every
 * line is also kept there (the operations console's logs). Without the configuration module, so
 * that the gateway's thread can make its logger without loading every service's definition.
 */
export function platformLoggers(options: PlatformLoggerOptions): (service: string, ring?: LogRing) => Logger {
  const destination = options.pretty
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
      level: options.levelOf(service),
      ...(destination ? { destination } : {}),
      ...(ring ? { ring } : {}),
    });
}
