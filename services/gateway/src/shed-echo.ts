import { SHED_OPERATION_HEADER } from "@blossom/runtime";

/** How long the gateway refuses an operation at the door after its service shed one. */
export const SHED_ECHO_MS = 50;

/** Operations remembered at most; past it the oldest memories go (any id in a path is a key). */
const MAX_REMEMBERED = 1024;

/**
 * What a service's own shedding tells the gateway: after the service answered an operation
 * (method and path) 503 saying the refusal holds for the whole operation for a moment
 * (`SHED_OPERATION_HEADER`: orders' checkout admission, whose backlog drains slower than
 * checkouts arrive), the gateway refuses the same operation at the door for a short window,
 * without the stages or the hop (door-shed.ts). Only on that word: a burst of sign-ups refused by
 * the password-hashing queue, which drains in milliseconds, must leave the next login free.
 *
 * Why: the gateway's queue sees only its own waits, and a service that sheds at admission
 * answers quickly, so the queue never stands. Under four times the checkout rate the platform
 * sustains, most POST /api/orders were refused by orders' admission after the whole pipeline
 * (JWT, rate limit, tracing, proxy, orders' own stages), each costing about as much as a
 * catalog read, on the event loop that also runs the checkouts. The window is short so that
 * capacity freed by the saga is seen at once: the first request after it goes to the service,
 * which decides again.
 */
export class ShedEcho {
  readonly #windowMs: number;
  readonly #now: () => number;
  /** Until when each operation is refused at the door, in insertion order. */
  readonly #until = new Map<string, number>();

  constructor(options: { windowMs?: number; now?: () => number } = {}) {
    this.#windowMs = options.windowMs ?? SHED_ECHO_MS;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Takes note of a service's answer to `method url`: a 503 with SHED_OPERATION_HEADER is echoed. */
  observe(method: string, url: string, status: number, headers: Readonly<Record<string, unknown>>): void {
    if (status === 503 && headers[SHED_OPERATION_HEADER] !== undefined) this.shed(method, url);
  }

  /** The service shed `method url` for a moment: refuse it at the door for the window. */
  shed(method: string, url: string): void {
    const key = operationKey(method, url);
    this.#until.delete(key);
    if (this.#until.size >= MAX_REMEMBERED) {
      const oldest = this.#until.keys().next().value;
      if (oldest !== undefined) this.#until.delete(oldest);
    }
    this.#until.set(key, this.#now() + this.#windowMs);
  }

  /** Whether `method url` is refused at the door now. */
  refusing(method: string, url: string): boolean {
    if (this.#until.size === 0) return false;
    const key = operationKey(method, url);
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (this.#now() < until) return true;
    this.#until.delete(key);
    return false;
  }
}

/** An operation: the method and the path without its query. */
function operationKey(method: string, url: string): string {
  const query = url.indexOf("?");
  return `${method} ${query === -1 ? url : url.slice(0, query)}`;
}
