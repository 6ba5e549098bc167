import { collectDefaultMetrics, Registry } from "prom-client";

let shared: Registry | undefined;

/**
 * The process and event-loop metrics (prom-client's default collectors: CPU, memory, handles,
 * GC, `nodejs_eventloop_lag_*`), registered once per process and merged into every service's
 * exposition at scrape time.
 *
 * Once rather than on each service's registry: the embedded topology runs six runnables in one
 * process, and each `collectDefaultMetrics` call starts its own event-loop-delay monitor and GC
 * observer, which are never stopped — six copies measuring the same process, and one more per
 * service host a test suite creates. Shared, every service reports the same figures for its
 * process, labelled with its own `service`.
 */
export function processMetrics(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
