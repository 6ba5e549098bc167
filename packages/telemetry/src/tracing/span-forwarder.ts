import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { type StoredSpan, toStored } from "./span-store.js";

/**
 * A span processor that hands this thread's finished spans to a `SpanStore` kept elsewhere (the
 * gateway's worker thread of `npm start` sends them to the services' thread, so that the
 * operations console shows whole traces): each sampled span is converted to what the ops API
 * shows as it ends, here, and sent in batches, one per turn of the event loop at most, so that
 * the receiving thread pays one message for many spans.
 */
export class SpanForwarder implements SpanProcessor {
  #batch: StoredSpan[] = [];
  #scheduled = false;

  constructor(private readonly send: (spans: StoredSpan[]) => void) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (!span.spanContext().traceFlags) return;
    this.#batch.push(toStored(span));
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.send(batch);
  }

  async forceFlush(): Promise<void> {
    this.#flush();
  }

  async shutdown(): Promise<void> {
    this.#flush();
  }
}
