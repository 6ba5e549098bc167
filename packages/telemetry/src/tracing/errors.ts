import { type Span, SpanStatusCode } from "@opentelemetry/api";

/**
 * What `error.type` says about an error: its code when it has a short one (a SQLSTATE, an
 * errno name), else its class name. Never its message, which may quote input.
 */
export function errorType(error: unknown): string {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(code)) return code;
  if (error instanceof Error) return error.name || error.constructor.name;
  return "_OTHER";
}

/** Marks `span` failed by `error`: the exception event, status ERROR and `error.type`. */
export function recordError(span: Span, error: unknown): void {
  const type = errorType(error);
  span.recordException(error instanceof Error ? error : { name: type, message: String(error) });
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
  span.setAttribute("error.type", type);
}
