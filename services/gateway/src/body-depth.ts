/**
 * The deepest JSON body the gateway forwards. Blossom's bodies nest four levels; the gateway
 * re-encodes a body to forward it, and encoding recurses, so a body nested tens of thousands of
 * levels (which parses fine) would overflow the stack there: 400 before that, not 500.
 */
export const MAX_BODY_DEPTH = 64;

/** Whether a parsed JSON value nests arrays and objects deeper than `limit` (iteratively, so it cannot overflow itself). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (next.value === null || typeof next.value !== "object") continue;
    if (next.depth >= limit) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}
