/**
 * Round-robin choice among the instances of one upstream, skipping the ones that cannot take a
 * call now (their circuit breaker is open) and preferring the ones this request has not tried.
 *
 * Guarantees: over calls with the same available set, every available instance is chosen in
 * turn; an instance that is not `available` is never returned; an instance in `tried` is only
 * returned when no untried available instance exists (so a retry lands elsewhere whenever it
 * can). Returns `undefined` when nothing is available. State is one counter per balancer.
 */
export class InstanceBalancer {
  #next = 0;

  pick<T>(
    candidates: readonly T[],
    available: (candidate: T) => boolean,
    tried: (candidate: T) => boolean = () => false,
  ): T | undefined {
    const count = candidates.length;
    let fallback: { candidate: T; offset: number } | undefined;
    for (let offset = 0; offset < count; offset++) {
      const candidate = candidates[(this.#next + offset) % count] as T;
      if (!available(candidate)) continue;
      if (tried(candidate)) {
        fallback ??= { candidate, offset };
        continue;
      }
      this.#advance(offset, count);
      return candidate;
    }
    if (fallback === undefined) return undefined;
    this.#advance(fallback.offset, count);
    return fallback.candidate;
  }

  #advance(offset: number, count: number): void {
    // Kept within [0, count) so the counter never grows without bound.
    this.#next = (this.#next + offset + 1) % count;
  }
}
