/**
 * Crash points: named places where a test can make the process die with SIGKILL, to prove that
 * nothing is lost or done twice across a crash at exactly that place (the outbox between
 * publish and mark, a consumer between commit and ack, …). Off unless the launcher arms them
 * from `BLOSSOM_CRASH_POINTS`, which production configuration refuses.
 */
const armed = new Set<string>();

/** Arms crash points given as `<service>/<point>` (e.g. `users/outbox.after-publish`). */
export function armCrashPoints(points: string[]): void {
  for (const point of points) armed.add(point);
}

/** Dies here, at once and without cleanup, if this point is armed for this service. */
export function crashPoint(service: string, point: string): void {
  if (armed.size > 0 && armed.has(`${service}/${point}`)) {
    process.stderr.write(`crash point ${service}/${point}: SIGKILL\n`);
    process.kill(process.pid, "SIGKILL");
  }
}
