import { TaskCancelledError } from "cockatiel";

/**
 * Runs one attempt bounded by `timeoutMs`, as cockatiel's aggressive `timeout()` policy does —
 * `fn` gets a signal that aborts on expiry, and the attempt rejects on time with
 * `TaskCancelledError` even if `fn` lingers (its later outcome is dropped) — with one
 * AbortController and one unref()ed timer per attempt and nothing else. cockatiel's policy,
 * built per call, added a second controller chained to a shared signal, two abort listeners, a
 * promise race and an event emitter per attempt: a measurable part of the gateway's CPU per
 * request. `abortOnReturn`: the signal is also aborted once the attempt settles (off for a
 * streamed answer, whose body must outlive the attempt).
 */
export function runWithAttemptTimeout<T>(
  timeoutMs: number,
  abortOnReturn: boolean,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      controller.abort();
      if (settled) return;
      settled = true;
      reject(new TaskCancelledError(`Operation timed out after ${timeoutMs}ms`));
    }, timeoutMs);
    timer.unref();
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      if (abortOnReturn) controller.abort();
      return true;
    };
    fn(controller.signal).then(
      (value) => {
        if (settle()) resolve(value);
      },
      (error: unknown) => {
        if (settle()) reject(error);
      },
    );
  });
}
