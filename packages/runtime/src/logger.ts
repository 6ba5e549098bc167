import { hostname } from "node:os";
import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

export interface LoggerSettings {
  /** The service (or "blossom" for the launcher); on every line. */
  service: string;
  /** Which replica this is; on every line. Defaults to host name and pid. */
  instance?: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read them. */
  destination?: DestinationStream;
}

/**
 * Paths never written to logs: credentials, tokens and card data, wherever they appear in a
 * logged object. pino replaces them with "[redacted]".
 */
export const REDACTED_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "cardNumber",
  "*.cardNumber",
  "cvc",
  "*.cvc",
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
];

export function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}`;
}

/** A pino JSON logger whose every line names the service and the instance. */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? "info",
    base: { service: settings.service, instance: settings.instance ?? defaultInstanceId() },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    formatters: { level: (label) => ({ level: label }) },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
