/**
 * A request body of `size` bytes sent as a stream (chunked, no Content-Length), 64 KiB at a
 * time with a pause every fourth chunk, as over a real network: the client is still sending
 * when an early answer (a 413, a 401) comes.
 */
export function slowBody(size: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      if (sent >= size) return controller.close();
      if ((sent / chunk.length) % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 1));
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
}
