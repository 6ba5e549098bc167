import { hostname } from "node:os";
import { activeTraceIds } from "@blossom/telemetry";
import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";
import type { LogRing } from "./log-ring.js";
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
  /**
   * Also keeps every line in this bounded ring (the operations console's logs): the same
   * serialized, redacted text the destination gets.
   */
  ring?: LogRing;
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

/** The property names `redactSecrets` hides, wherever they appear: what REDACTED_PATHS names. */
const SECRET_KEYS = new Set(
  REDACTED_PATHS.map((path) => path.replace(/^\*\./, "")).filter((key) => /^[A-Za-z]+$/.test(key)),
);
SECRET_KEYS.add("authorization");
SECRET_KEYS.add("cookie");

/**
 * A copy of `value` with every property named like a secret the logs redact (password, token,
 * card number, CVC…) replaced by "[redacted]", at any depth: for data shown to operators that
 * did not go through the logger (a dead letter's event).
 */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item)) as T;
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      SECRET_KEYS.has(key) ? "[redacted]" : redactSecrets(inner),
    ]),
  ) as T;
}

export function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * What ties a line to its trace and its user: the active span's `trace_id` and `span_id`, and
 * the signed-in user's `user_id` when the current request has one.
 */
function correlationFields(): Record<string, string> {
  // A fresh object each time: pino merges the line's own fields into what the mixin returns.
  const fields: Record<string, string> = activeTraceIds() ?? {};
  const userId = currentContext()?.userId;
  if (userId) fields.user_id = userId;
  return fields;
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
  const destination = settings.destination ?? stdoutDestination();
  if (!settings.ring || options.level === "silent") return pino(options, destination);
  // Both streams take every line the logger's level lets through (multistream filters per
  // stream too: give each the logger's level). pino serializes a line once for both.
  const level = options.level as pino.Level;
  return pino(
    options,
    pino.multistream([
      { level, stream: destination },
      { level, stream: settings.ring },
    ]),
  );
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
