import { randomUUID } from "node:crypto";
import { cutText } from "@blossom/telemetry";

/**
 * Defaults: about 2 MiB per ring full of access lines (~480 characters each), never over 4 Mi
 * characters of text (4 MiB: pino's lines are ASCII unless a logged value is not; a line with a
 * character beyond Latin-1 takes 2 bytes per character) plus about 190 bytes per line kept.
 * docs/operations.md lists every buffer of the console with its bounds.
 */
export const DEFAULT_LOG_RING_LINES = 3000;
export const DEFAULT_LOG_RING_BYTES = 4 * 1024 * 1024;
/** A longer line is kept cut to this many characters (and flagged `truncated`). */
export const MAX_LOG_LINE_CHARS = 8192;

const LEVELS: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};
export const LOG_LEVELS = Object.keys(LEVELS) as readonly string[];

export interface LogRingOptions {
  /** Lines kept; the oldest go first. Default 3,000. */
  maxLines?: number;
  /** Characters kept over all lines (the oldest go first). Default 4 MiB. */
  maxBytes?: number;
}

export interface LogQuery {
  service?: string | undefined;
  /** This level and above (`warn` = warn, error, fatal). */
  level?: string | undefined;
  traceId?: string | undefined;
  /** Lines that mention the order id anywhere (a field, a URL). */
  orderId?: string | undefined;
  /** Lines logged at or after this time (ISO 8601). */
  since?: string | undefined;
  /** Lines after this sequence number of this ring (live tail). */
  after?: number | undefined;
  /** The newest `limit` lines that match, oldest first. */
  limit: number;
}

/** One kept line, parsed back for the reader. */
export interface LogLine {
  /** Position in this ring: increasing, never reused; the cursor of a live tail. */
  seq: number;
  time: string;
  level: string;
  service: string;
  instance: string;
  msg: string;
  traceId: string | null;
  /** The whole line as logged (already redacted), minus what the fields above carry. */
  fields: Record<string, unknown>;
  truncated: boolean;
}

interface Kept {
  seq: number;
  line: string;
}

/** What a dropped line's slot holds until the array is compacted. */
const RELEASED: Kept = { seq: 0, line: "" };

/**
 * A bounded ring of a logger's recent lines: what pino wrote (so after redaction — secrets never
 * enter it), kept as the written text and parsed only when read. Memory is bounded by lines and
 * by characters, oldest dropped first. A pino destination: `createLogger({ ring })` tees every
 * line into it. Writing costs an array push; reading parses the lines it scans.
 */
export class LogRing {
  /** Names this ring among every instance's (a live tail's cursor keeps a position per ring). */
  readonly id = randomUUID().slice(0, 8);
  readonly #maxLines: number;
  readonly #maxBytes: number;
  #lines: Kept[] = [];
  #head = 0;
  #bytes = 0;
  #seq = 0;

  constructor(options: LogRingOptions = {}) {
    this.#maxLines = options.maxLines ?? DEFAULT_LOG_RING_LINES;
    this.#maxBytes = options.maxBytes ?? DEFAULT_LOG_RING_BYTES;
  }

  /** The sequence number of the newest line (0 before any). */
  get lastSeq(): number {
    return this.#seq;
  }

  get size(): number {
    return this.#lines.length - this.#head;
  }

  /** Characters of the kept lines (at most `maxBytes`, unless the one line left is longer). */
  get charCount(): number {
    return this.#bytes;
  }

  /** pino's destination interface: one serialized line (with its newline) per call. */
  write(line: string): void {
    const text = line.length > MAX_LOG_LINE_CHARS ? cutText(line, MAX_LOG_LINE_CHARS) : line.trimEnd();
    this.#lines.push({ seq: ++this.#seq, line: text });
    this.#bytes += text.length;
    while (this.size > this.#maxLines || (this.#bytes > this.#maxBytes && this.size > 1)) {
      const dropped = this.#lines[this.#head];
      this.#bytes -= dropped?.line.length ?? 0;
      // Released now, not at the next compaction: until then the array still holds its slot, and
      // up to maxLines dropped lines would stay reachable (twice the bound).
      this.#lines[this.#head++] = RELEASED;
    }
    // Compact now and then rather than shift() per line.
    if (this.#head > 1024 && this.#head * 2 > this.#lines.length) {
      this.#lines = this.#lines.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The newest `limit` lines matching the query, oldest first. */
  query(query: LogQuery): LogLine[] {
    const minLevel = query.level ? (LEVELS[query.level] ?? 0) : 0;
    const since = query.since ? Date.parse(query.since) : Number.NaN;
    const found: LogLine[] = [];
    for (let index = this.#lines.length - 1; index >= this.#head && found.length < query.limit; index--) {
      const kept = this.#lines[index];
      if (!kept) break;
      if (query.after !== undefined && kept.seq <= query.after) break;
      // Cheap text tests before parsing: most lines fail one.
      if (query.traceId && !kept.line.includes(query.traceId)) continue;
      if (query.orderId && !kept.line.includes(query.orderId)) continue;
      const line = parse(kept);
      if (!line) continue;
      if (!Number.isNaN(since) && Date.parse(line.time) < since) continue;
      if (query.service && line.service !== query.service) continue;
      if ((LEVELS[line.level] ?? 0) < minLevel) continue;
      if (query.traceId && line.traceId !== query.traceId) continue;
      found.push(line);
    }
    return found.reverse();
  }
}

function parse(kept: Kept): LogLine | undefined {
  let value: unknown;
  const truncated = !kept.line.endsWith("}");
  try {
    value = JSON.parse(kept.line);
  } catch {
    // A line cut to MAX_LOG_LINE_CHARS: its leading fields (pino writes them first) and the text.
    value = { ...leadingFields(kept.line), text: kept.line };
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { time, level, service, instance, msg, trace_id, ...fields } = value as Record<string, unknown>;
  return {
    seq: kept.seq,
    time: typeof time === "string" ? time : new Date(0).toISOString(),
    level: typeof level === "string" ? level : typeof level === "number" ? levelName(level) : "info",
    service: typeof service === "string" ? service : "",
    instance: typeof instance === "string" ? instance : "",
    msg: typeof msg === "string" ? msg : "",
    traceId: typeof trace_id === "string" ? trace_id : null,
    fields,
    truncated,
  };
}

function leadingFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const name of ["level", "time", "service", "instance", "msg", "trace_id"]) {
    const match = new RegExp(`"${name}":"([^"\\\\]*)"`).exec(line);
    if (match?.[1] !== undefined) fields[name] = match[1];
  }
  return fields;
}

function levelName(value: number): string {
  return Object.entries(LEVELS).find(([, number]) => number === value)?.[0] ?? "info";
}
