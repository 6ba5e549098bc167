import type { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import type { FastifyInstance } from "fastify";

/** Default of `ServerOptions.maxDiscardedBodyBytes`: the most of an unread body read and thrown away. */
export const MAX_DISCARDED_BODY_BYTES = 16 * 1024 * 1024;

/** The longest a server keeps reading an unread body after answering, before closing the connection. */
export const DISCARD_WINDOW_MS = 10_000;

/**
 * Answers that go out before the request's body has all arrived — a 413 for a body over the
 * limit, a 401 or 429 decided from the headers — must not reset the connection under the client.
 *
 * Fastify answers a body it refuses (over `bodyLimit`, by `Content-Length` or while reading it)
 * with `Connection: close`, and Node then closes the socket as soon as the answer is written,
 * while the client is still sending: the kernel answers the bytes still arriving (or still
 * unread) with a TCP reset, and a client that is still writing its body — Node's `fetch` above
 * all — fails with `EPIPE`/`ECONNRESET` and never sees the 413.
 *
 * So when an answer goes out before the body is complete, this takes the `Connection: close`
 * back (unless the server is stopping) and reads and discards the rest of the body, so that
 * the client finishes sending and then reads its answer on a connection that stays usable.
 * Bounded: past `maxBytes` discarded, or `DISCARD_WINDOW_MS`, the connection is closed.
 */
export function installUnreadBodyDiscard(
  app: FastifyInstance,
  options: { maxBytes: number; closing: () => boolean },
): void {
  app.addHook("onSend", (request, reply, payload, done) => {
    const raw = request.raw;
    // `complete` is Node's: an injected request (light-my-request) has none, and no socket to reset.
    if (raw.complete === false && !raw.destroyed && raw.socket instanceof Socket) {
      if (!options.closing() && String(reply.getHeader("connection") ?? "").toLowerCase() === "close")
        reply.removeHeader("connection");
      discardRest(raw, options.maxBytes);
    }
    done(null, payload);
  });
}

const discarding = new WeakSet<IncomingMessage>();

function discardRest(raw: IncomingMessage, maxBytes: number): void {
  if (discarding.has(raw)) return;
  discarding.add(raw);
  let discarded = 0;
  const stop = () => {
    clearTimeout(timer);
    raw.off("data", count);
    raw.off("end", stop);
    raw.off("close", stop);
  };
  // The client sends more than anyone should wait for: close (it has had its answer).
  const giveUp = () => {
    stop();
    raw.socket?.destroy();
  };
  const count = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > maxBytes) giveUp();
  };
  const timer = setTimeout(giveUp, DISCARD_WINDOW_MS);
  timer.unref();
  raw.on("data", count);
  raw.once("end", stop);
  raw.once("close", stop);
  raw.resume();
}
