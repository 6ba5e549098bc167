import { Pool } from "undici";
import { percentile } from "./checkout-load.js";

/** What an open-loop run of GETs measured. */
export interface OpenLoopReads {
  offeredPerSecond: number;
  okPerSecond: number;
  /** 503s: refused (each must carry Retry-After: counted apart when one does not). */
  shed: number;
  shedWithoutRetryAfter: number;
  /** Any other status, connection errors and timeouts. */
  otherErrors: number;
  /** Latency of the 2xx answers, from when each request was due (not when it could be sent). */
  p50Ms: number;
  p99Ms: number;
}

/** Connections at most: past them requests queue here, and that wait counts in their latency. */
const MAX_CONNECTIONS = 512;
const TIMEOUT_MS = 10_000;

/**
 * GETs `url` at `perSecond` for `seconds`, each sent when it is due whether or not the earlier
 * ones were answered: an open loop, as arrivals from many independent clients are.
 *
 * Why not autocannon's `overallRate`: it gives each connection a quota per second, which the
 * connection spends as fast as it is answered. Against a server that refuses quickly, every
 * second's requests then arrive as one burst at its start and the server idles for the rest:
 * that measures a burst, not a rate. Latency is counted from each request's due time, so a
 * generator or a connection pool that falls behind shows as latency, not as a lower rate
 * (no coordinated omission).
 */
export async function openLoopReads(
  url: string,
  perSecond: number,
  seconds: number,
  warmUpSeconds = 2,
): Promise<OpenLoopReads> {
  const target = new URL(url);
  const pool = new Pool(target.origin, {
    connections: MAX_CONNECTIONS,
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
  });
  const path = `${target.pathname}${target.search}`;
  // The warm-up's requests are sent the same way but not counted: it opens the connections the
  // rate needs (hundreds opened at once under overload took seconds to be accepted).
  const warmUp = Math.round(perSecond * warmUpSeconds);
  const total = warmUp + Math.max(1, Math.round(perSecond * seconds));
  const intervalMs = 1000 / perSecond;
  const latencies: number[] = [];
  const counts = { ok: 0, shed: 0, shedWithoutRetryAfter: 0, other: 0 };
  const answers: Promise<void>[] = [];
  const send = async (dueAt: number, counted: boolean) => {
    try {
      const answer = await pool.request({ path, method: "GET" });
      await answer.body.dump();
      if (!counted) return;
      if (answer.statusCode >= 200 && answer.statusCode <= 299) {
        counts.ok++;
        latencies.push(performance.now() - dueAt);
      } else if (answer.statusCode === 503) {
        counts.shed++;
        if (answer.headers["retry-after"] === undefined) counts.shedWithoutRetryAfter++;
      } else counts.other++;
    } catch {
      if (counted) counts.other++;
    }
  };
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((finished) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      for (; sent < due; sent++) answers.push(send(start + sent * intervalMs, sent >= warmUp));
      if (sent < total) setTimeout(tick, 1);
      else finished();
    };
    tick();
  });
  await Promise.all(answers);
  await pool.close();
  return {
    offeredPerSecond: perSecond,
    okPerSecond: counts.ok / seconds,
    shed: counts.shed,
    shedWithoutRetryAfter: counts.shedWithoutRetryAfter,
    otherErrors: counts.other,
    p50Ms: Math.round(percentile(latencies, 0.5) ?? Number.NaN),
    p99Ms: Math.round(percentile(latencies, 0.99) ?? Number.NaN),
  };
}
