/** Called with the complete, current instance list of a service each time it changes. */
export type InstancesListener = (instances: string[]) => void;

/**
 * The service discovery port: where the instances of an upstream service live.
 *
 * Guarantees expected from an adapter:
 * - `instances` is synchronous and cheap: the client calls it on every request, so an adapter
 *   that resolves over the network (DNS, NATS KV) keeps a cached list and refreshes it in the
 *   background instead of resolving per call.
 * - It returns base URLs (`http://127.0.0.1:8081`, optionally with a path prefix), never throws
 *   for an unknown service (it returns `[]`), and returns a list the caller may keep or mutate.
 * - `watch`, when implemented, calls the listener with the full new list after every change and
 *   returns a function that stops the notifications. It is optional: the client also re-reads
 *   `instances` on every request.
 */
export interface Discovery {
  instances(service: string): string[];
  watch?(service: string, listener: InstancesListener): () => void;
}
