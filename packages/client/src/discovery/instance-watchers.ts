import type { InstancesListener } from "./discovery.js";

/** The listeners of each service's instance list: what a `Discovery` adapter's `watch` keeps. */
export class InstanceWatchers {
  readonly #listeners = new Map<string, Set<InstancesListener>>();

  /** Adds `listener` for `service`; returns the function that removes it again. */
  add(service: string, listener: InstancesListener): () => void {
    let listeners = this.#listeners.get(service);
    if (listeners === undefined) {
      listeners = new Set();
      this.#listeners.set(service, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /** The listeners of `service`, copied: a listener may unsubscribe while the caller iterates. */
  of(service: string): InstancesListener[] {
    return [...(this.#listeners.get(service) ?? [])];
  }

  /** Forgets every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}
