import { useState } from "react";
import { api } from "../api/client.js";
import { Link, useTitle } from "../router.js";
import { useApi } from "../use-api.js";
import { addBuckets, type BucketCounts, bucketsQuantile, parseKey, slotOf } from "./metrics.js";
import { formatMs, formatTime, Json, Panel, Problem } from "./parts.js";
import {
  CONSUMERS,
  type DeadLetter,
  type DeadLetterAnswer,
  type DeadLetters,
  type DeadLetterView,
  type Metrics,
  type Series,
} from "./types.js";

/** One event type as one consumer saw it over the last 15 minutes. */
interface FlowRow {
  eventType: string;
  /** undefined: published, but no consumer delivery seen. */
  consumer: string | undefined;
  published: number;
  consumed: number;
  redelivered: number;
  failed: number;
  deadLettered: number;
  /** Delivery delay (envelope time → handling started) p95 in ms over 15 minutes; null: none seen. */
  delayP95Ms: number | null;
  /** The same in the latest 5 s slot where this consumer received the type. */
  latestDelayP95Ms: number | null;
  /** The consumer's events owed, all its types together (the gauge has no event type). */
  lag: number | undefined;
}

const DELIVERY_DELAY = "blossom_event_delivery_delay_seconds";

/** A row before any figure is added to it. */
function emptyFlow(eventType: string, consumer: string | undefined): FlowRow {
  return {
    eventType,
    consumer,
    published: 0,
    consumed: 0,
    redelivered: 0,
    failed: 0,
    deadLettered: 0,
    delayP95Ms: null,
    latestDelayP95Ms: null,
    lag: undefined,
  };
}

/** Delivery delay bucket counts of one row: over 15 minutes, and in its latest slot. */
interface DelayCounts {
  all: BucketCounts;
  latestSlot: number;
  latest: BucketCounts;
}

const p95Ms = (counts: BucketCounts | undefined) => {
  const seconds = counts ? bucketsQuantile(0.95, counts) : null;
  return seconds === null ? null : seconds * 1000;
};

/** Counts (rate × interval, summed over points and instances) per event type and consumer. */
function flows(series: Series[]): FlowRow[] {
  const published = new Map<string, number>();
  const rows = new Map<string, FlowRow>();
  const lag = new Map<string, number>();
  // Bucket counts summed over points and instances: a p95 over 15 minutes and every replica
  // (per-interval quantiles cannot be combined).
  const delays = new Map<FlowRow, DelayCounts>();
  const row = (eventType: string, consumer: string) => {
    const key = `${eventType}\u0000${consumer}`;
    let found = rows.get(key);
    if (!found) {
      found = emptyFlow(eventType, consumer);
      rows.set(key, found);
    }
    return found;
  };
  for (const one of series) {
    const last = one.points.at(-1);
    const instanceLag = last?.gauges.blossom_consumer_lag;
    if (instanceLag !== undefined) lag.set(one.service, (lag.get(one.service) ?? 0) + instanceLag);
    for (const point of one.points) {
      for (const [key, figures] of Object.entries(point.histograms)) {
        const delay = parseKey(key, DELIVERY_DELAY);
        if (!delay?.event_type) continue;
        const target = row(delay.event_type, one.service);
        const slot = slotOf(point.time);
        let counts = delays.get(target);
        if (!counts) {
          counts = { all: {}, latestSlot: slot, latest: {} };
          delays.set(target, counts);
        }
        addBuckets(counts.all, figures.buckets);
        if (slot > counts.latestSlot) {
          counts.latestSlot = slot;
          counts.latest = {};
        }
        if (slot === counts.latestSlot) addBuckets(counts.latest, figures.buckets);
      }
      for (const [key, rate] of Object.entries(point.rates)) {
        const count = rate * point.intervalSeconds;
        const pub = parseKey(key, "blossom_events_published_total");
        if (pub?.event_type) {
          published.set(pub.event_type, (published.get(pub.event_type) ?? 0) + count);
          continue;
        }
        const consumed = parseKey(key, "blossom_events_consumed_total");
        if (consumed?.event_type) {
          const target = row(consumed.event_type, one.service);
          if (consumed.outcome === "failed") target.failed += count;
          else target.consumed += count;
          continue;
        }
        const redelivered = parseKey(key, "blossom_events_redelivered_total");
        if (redelivered?.event_type) {
          row(redelivered.event_type, one.service).redelivered += count;
          continue;
        }
        const dead = parseKey(key, "blossom_events_dead_lettered_total");
        if (dead?.event_type) row(dead.event_type, one.service).deadLettered += count;
      }
    }
  }
  const list = [...rows.values()];
  const consumedTypes = new Set(list.map((one) => one.eventType));
  for (const eventType of published.keys())
    if (!consumedTypes.has(eventType)) list.push(emptyFlow(eventType, undefined));
  for (const one of list) {
    one.published = Math.round(published.get(one.eventType) ?? 0);
    one.consumed = Math.round(one.consumed);
    one.redelivered = Math.round(one.redelivered);
    one.failed = Math.round(one.failed);
    one.deadLettered = Math.round(one.deadLettered);
    one.delayP95Ms = p95Ms(delays.get(one)?.all);
    one.latestDelayP95Ms = p95Ms(delays.get(one)?.latest);
    one.lag = one.consumer === undefined ? undefined : lag.get(one.consumer);
  }
  return list.sort(
    (a, b) => a.eventType.localeCompare(b.eventType) || (a.consumer ?? "").localeCompare(b.consumer ?? ""),
  );
}

function EventFlows() {
  const metrics = useApi<Metrics>("/api/ops/metrics");
  const rows = flows(metrics.data?.series ?? []);
  return (
    <Panel
      title="Events, last 15 minutes"
      id="event-flows-title"
      actions={
        <button type="button" className="button" onClick={metrics.reload} aria-label="Refresh event counts">
          Refresh
        </button>
      }
    >
      <Problem error={metrics.error} />
      {metrics.loading && !metrics.data ? (
        <p>Loading…</p>
      ) : rows.length === 0 ? (
        <p className="muted">No data yet: no event published or consumed in the last 15 minutes.</p>
      ) : (
        <div className="table-scroll">
          <table className="console-table">
            <caption>
              Per event type and consumer, counted from the platform's metrics (
              <code>GET /api/ops/metrics</code>: each instance's per-second counter rates times their 5-second
              intervals, summed over the last 15 minutes and every instance). Published counts every publisher
              of the type. Delivery delay p95 is how late this consumer got this type: from the event's time
              in its envelope (written to the publisher's outbox) to the consumer starting on its first
              delivery, 95th percentile over 15 minutes and every instance, then in the latest 5-second
              interval with a delivery (a replayed dead letter counts with its whole age). Consumer lag is the
              events the consumer owes, over all its event types together (its latest value): the bus counts
              them per consumer, not per type.
            </caption>
            <thead>
              <tr>
                <th scope="col">Event type</th>
                <th scope="col">Consumer</th>
                <th scope="col">Published</th>
                <th scope="col">Consumed</th>
                <th scope="col">Redelivered</th>
                <th scope="col">Failed</th>
                <th scope="col">Dead-lettered</th>
                <th scope="col">Delivery delay p95</th>
                <th scope="col">Consumer lag</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={`${row.eventType} ${row.consumer ?? ""}`}>
                  <th scope="row" className="mono">
                    {row.eventType}
                  </th>
                  <td>{row.consumer ?? "none seen"}</td>
                  <td>{row.published}</td>
                  <td>{row.consumer === undefined ? "–" : row.consumed}</td>
                  <td>{row.consumer === undefined ? "–" : row.redelivered}</td>
                  <td>{row.consumer === undefined ? "–" : row.failed}</td>
                  <td>{row.consumer === undefined ? "–" : row.deadLettered}</td>
                  <td>
                    {formatMs(row.delayP95Ms)}
                    {row.latestDelayP95Ms !== null && (
                      <span className="muted"> (latest {formatMs(row.latestDelayP95Ms)})</span>
                    )}
                  </td>
                  <td>{row.lag === undefined ? "–" : row.lag}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

type Action = "replay" | "discard";

function DeadLetterRow({
  service,
  letter,
  onDone,
}: {
  service: string;
  letter: DeadLetter;
  onDone(answer: DeadLetterAnswer): void;
}) {
  const [detail, setDetail] = useState<DeadLetterView | undefined>(undefined);
  const [asking, setAsking] = useState<Action | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const base = `/api/${service}/dead-letters/${encodeURIComponent(letter.id)}`;
  const inspect = async () => {
    try {
      setDetail(detail ? undefined : await api<DeadLetterView>(base));
      setError(undefined);
    } catch (caught) {
      setError(caught);
    }
  };
  const act = async (action: Action) => {
    setAsking(undefined);
    try {
      const answer = await api<DeadLetterAnswer>(`${base}/${action}`, { method: "POST", body: {} });
      setError(undefined);
      onDone(answer);
    } catch (caught) {
      setError(caught);
    }
  };
  const traceId = letter.traceparent?.split("-")[1];
  return (
    <li className="dead-letter">
      <h3>
        {letter.eventType} <span className="muted">about {letter.subject}</span>
      </h3>
      <dl className="levels">
        <dt>Error</dt>
        <dd>{letter.error}</dd>
        <dt>Attempts</dt>
        <dd>{letter.attempts}</dd>
        <dt>Dead-lettered</dt>
        <dd>{formatTime(letter.at)}</dd>
        <dt>Ids</dt>
        <dd className="mono">
          {letter.id} (event {letter.eventId})
          {traceId && (
            <>
              {" · "}
              <Link to={`/console/traces/${traceId}`}>publisher's trace</Link>
            </>
          )}
        </dd>
      </dl>
      <div className="actions">
        <button type="button" className="button" aria-expanded={!!detail} onClick={() => void inspect()}>
          {detail ? "Hide event" : "Inspect"}
        </button>
        <button type="button" className="button" onClick={() => setAsking("replay")}>
          Replay
        </button>
        <button type="button" className="button danger" onClick={() => setAsking("discard")}>
          Discard
        </button>
      </div>
      {asking && (
        <fieldset className="console-confirm">
          <legend>{asking === "replay" ? "Replay this event?" : "Discard this event?"}</legend>
          <p>
            {asking === "replay"
              ? `Deliver ${letter.eventType} again to ${service}'s consumer? The inbox still lets it take effect at most once.`
              : `Drop ${letter.eventType} without delivering it? This cannot be undone.`}
          </p>
          <button type="button" className="button" onClick={() => void act(asking)}>
            {asking === "replay" ? "Yes, replay" : "Yes, discard"}
          </button>{" "}
          <button type="button" className="button" onClick={() => setAsking(undefined)}>
            Cancel
          </button>
        </fieldset>
      )}
      <Problem error={error} />
      {detail && <Json value={detail.event} />}
    </li>
  );
}

function ServiceDeadLetters({
  service,
  onAnswer,
}: {
  service: string;
  onAnswer(answer: DeadLetterAnswer): void;
}) {
  const list = useApi<DeadLetters>(`/api/${service}/dead-letters?limit=100`);
  const items = list.data?.items ?? [];
  return (
    <Panel
      title={service}
      id={`dead-letters-${service}`}
      actions={
        <button type="button" className="button" onClick={list.reload} aria-label={`Refresh ${service}`}>
          Refresh
        </button>
      }
    >
      <Problem error={list.error} />
      {list.loading ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p className="muted">No dead letters.</p>
      ) : (
        <ul className="console-list">
          {items.map((letter) => (
            <DeadLetterRow
              key={letter.id}
              service={service}
              letter={letter}
              onDone={(answer) => {
                onAnswer(answer);
                list.reload();
              }}
            />
          ))}
        </ul>
      )}
    </Panel>
  );
}

export function MessagesPage() {
  useTitle("Console: messages");
  // The answer of the last replay or discard, as the API gave it.
  const [answer, setAnswer] = useState<{ service: string; answer: DeadLetterAnswer } | undefined>(undefined);
  return (
    <>
      <h1>Messages</h1>
      <p>
        Dead letters: the events a service's consumer gave up on, per service. Replay delivers one again to
        that consumer; discard drops it. Both are recorded in the service's audit log.
      </p>
      <EventFlows />
      <div role="status" aria-live="polite">
        {answer && (
          <div className="notice notice-success">
            <p>
              {answer.service}: dead letter {answer.answer.id} {answer.answer.action}
              {answer.answer.repeated ? " (already done before: nothing was done again)" : ""}.
              {!answer.answer.repeated &&
                (answer.answer.action === "replayed"
                  ? ` The event${answer.answer.eventType ? ` ${answer.answer.eventType}` : ""} was delivered again to ${answer.service}'s consumer: if it fails again, it comes back to this list as a new dead letter.`
                  : ` The event${answer.answer.eventType ? ` ${answer.answer.eventType}` : ""} will not be delivered.`)}
            </p>
            <Json value={answer.answer} />
          </div>
        )}
      </div>
      {CONSUMERS.map((service) => (
        <ServiceDeadLetters
          key={service}
          service={service}
          onAnswer={(outcome) => setAnswer({ service, answer: outcome })}
        />
      ))}
    </>
  );
}
