import { hostname } from "node:os";
import { activeTraceIds } from "@blossom/telemetry";
import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { currentContext } from "./request-context.js";

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
  // A database error carries its query's parameters (PGlite's do): a password hash, a token.
  "err.params",
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
];

export function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * What ties a line to its trace and its user: the active span's `trace_id` and `span_id`, and
 * the signed-in user's `user_id` when the current request has one.
 */
function correlationFields(): Record<string, string> {
  const ids = activeTraceIds();
  const userId = currentContext()?.userId;
  if (!ids && !userId) return {};
  return { ...ids, ...(userId ? { user_id: userId } : {}) };
}

/**
 * A pino JSON logger whose every line names the service and the instance, and, inside a traced
 * request or event, its trace and span.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? "info",
    base: { service: settings.service, instance: settings.instance ?? defaultInstanceId() },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    formatters: { level: (label) => ({ level: label }) },
    mixin: correlationFields,
  };
  return pino(options, settings.destination ?? stdoutDestination());
}

/**
 * Standard output, written asynchronously: a line is queued and written with the lines logged
 * while the previous write was in flight, so a busy server makes one write per batch instead of
 * one blocking write per line (the access log alone is a line per request: a synchronous write
 * each was 10 % of the gateway's CPU under load). pino flushes what is queued when the process
 * exits, crash included; only a `kill -9` can lose the last few lines.
 */
function stdoutDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}
