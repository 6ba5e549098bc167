/**
 * Polls `probe` until it returns a value (anything but `undefined` or `false`), then resolves
 * with it; fails after `timeoutMs`, naming `what` and the probe's last error. A probe that
 * throws is retried (the service may not be up yet), so a boolean condition reads
 * `eventually(() => seen.length === 2, 5_000, "two deliveries")`.
 */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = "the condition",
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
