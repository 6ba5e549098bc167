/**
 * RFC 9457 problem details. Every error a client sees is one of these, with a stable `type`
 * per kind of problem so clients can branch on it (never on `title` or `detail`).
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
const PROBLEM_BASE = "https://blossom.dev/problems/";

/** The URI of a problem type: `problemType("not-found")` → `https://blossom.dev/problems/not-found`. */
export function problemType(slug: string): string {
  return `${PROBLEM_BASE}${slug}`;
}

/** The platform's shared problem kinds; services add their own with `HttpProblem`. */
export const ProblemTypes = {
  validation: { slug: "validation-error", status: 400, title: "The request is not valid" },
  malformedBody: { slug: "malformed-body", status: 400, title: "The request body is not well-formed" },
  unauthorized: { slug: "unauthorized", status: 401, title: "Authentication is required" },
  forbidden: { slug: "forbidden", status: 403, title: "Not allowed" },
  notFound: { slug: "not-found", status: 404, title: "Not found" },
  methodNotAllowed: { slug: "method-not-allowed", status: 405, title: "Method not allowed" },
  conflict: { slug: "conflict", status: 409, title: "Conflict" },
  payloadTooLarge: { slug: "payload-too-large", status: 413, title: "The request body is too large" },
  uriTooLong: { slug: "uri-too-long", status: 414, title: "The request URI is too long" },
  malformedUrl: { slug: "malformed-url", status: 400, title: "The request URL is not well-formed" },
  unsupportedMediaType: { slug: "unsupported-media-type", status: 415, title: "Unsupported media type" },
  unprocessable: { slug: "unprocessable", status: 422, title: "The request cannot be processed" },
  rateLimited: { slug: "rate-limited", status: 429, title: "Too many requests" },
  internal: { slug: "internal-error", status: 500, title: "Internal error" },
  badGateway: { slug: "bad-gateway", status: 502, title: "An upstream service failed" },
  unavailable: { slug: "service-unavailable", status: 503, title: "Service unavailable" },
  gatewayTimeout: {
    slug: "gateway-timeout",
    status: 504,
    title: "An upstream service did not answer in time",
  },
  /**
   * A request that changes something reached a service (or may have), and no answer came back:
   * it may or may not have been carried out. Retrying with the same `Idempotency-Key` is safe and
   * answers what the original request did (docs/architecture.md, "What an answer means").
   */
  outcomeUnknown: {
    slug: "outcome-unknown",
    status: 504,
    title: "The outcome of the request is unknown",
  },
} as const;

export type ProblemKind = keyof typeof ProblemTypes;

/**
 * On a 503, says that every request of the same operation (method and path) would be refused
 * the same way for a moment: the refusal comes from a backlog that drains slower than requests
 * arrive (orders' checkout admission), not from one request's bad luck. The gateway then refuses
 * that operation at its door for a few tens of milliseconds (services/gateway/src/shed-echo.ts)
 * and does not pass the header on. A refusal that a moment may lift (a queue that drains in
 * milliseconds, as the password-hashing one) must not carry it.
 */
export const SHED_OPERATION_HEADER = "x-blossom-shed-operation";

/**
 * An error that becomes a problem+json answer. Throw it from a route (or a domain adapter) and
 * the server's error handler answers with exactly this status, type, title and detail.
 */
export class HttpProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(options: {
    status: number;
    slug: string;
    title: string;
    detail?: string;
    extensions?: Record<string, unknown>;
    headers?: Record<string, string>;
  }) {
    super(options.detail ?? options.title);
    this.name = "HttpProblem";
    this.status = options.status;
    this.type = problemType(options.slug);
    this.title = options.title;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  /** A problem of one of the shared kinds, with an optional detail and extension members. */
  static of(kind: ProblemKind, detail?: string, extensions?: Record<string, unknown>): HttpProblem {
    const { slug, status, title } = ProblemTypes[kind];
    return new HttpProblem({
      status,
      slug,
      title,
      ...(detail === undefined ? {} : { detail }),
      ...(extensions === undefined ? {} : { extensions }),
    });
  }

  toJSON(instance?: string): ProblemDetails {
    return {
      ...this.extensions,
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.message && this.message !== this.title ? { detail: this.message } : {}),
      ...(instance ? { instance } : {}),
    };
  }
}

export function isHttpProblem(error: unknown): error is HttpProblem {
  return error instanceof HttpProblem;
}
