import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client.js";
import { useTitle } from "../router.js";
import { answeringInstances, type Health, serviceHealth } from "./health.js";
import { countOver, gaugeCount, gaugeSum, histogramMax, lastValue, rateSum, slots } from "./metrics.js";
import { formatMs, formatNumber, Panel, Problem, query, Sparkline, useVisibleInterval } from "./parts.js";
import { type Metrics, type MetricsPoint, type Readiness, SERVICES, type Series } from "./types.js";

const REFRESH_MS = 5_000;
/** The last minute, for the table's "now" figures (points are 5 s apart). */
const RECENT_POINTS = 12;
const MAX_POINTS = 180;

/** One service's figures, summed over its instances point by point (by time). */
interface ServiceFigures {
  service: string;
  rate: number[];
  errorRate: number[];
  p50: Array<number | null>;
  p95: Array<number | null>;
  p99: Array<number | null>;
}

function merge(previous: Series[], answer: Metrics): Series[] {
  const byKey = new Map(previous.map((series) => [`${series.service}/${series.instance}`, series]));
  for (const series of answer.series) {
    const key = `${series.service}/${series.instance}`;
    const old = byKey.get(key);
    const points = old ? [...old.points, ...series.points] : series.points;
    byKey.set(key, { ...series, points: points.slice(-MAX_POINTS) });
  }
  return [...byKey.values()];
}

/** Per service: rates summed over instances, latency quantiles the worst instance's (an upper bound). */
function figures(series: Series[]): ServiceFigures[] {
  const services = [...new Set([...SERVICES, ...series.map((one) => one.service)])];
  return services.map((service) => {
    const mine = series.filter((one) => one.service === service);
    const byTime = new Map<string, MetricsPoint[]>();
    for (const one of mine)
      for (const point of one.points) {
        // Instances sample on their own clocks: group by the 5 s slot.
        const slot = new Date(Math.floor(Date.parse(point.time) / 5000) * 5000).toISOString();
        byTime.set(slot, [...(byTime.get(slot) ?? []), point]);
      }
    const slots = [...byTime.keys()].sort();
    const worst = (points: MetricsPoint[], pick: (point: MetricsPoint) => number | null) => {
      const values = points.map(pick).filter((value): value is number => value !== null);
      return values.length ? Math.max(...values) : null;
    };
    const at = (slot: string) => byTime.get(slot) ?? [];
    return {
      service,
      rate: slots.map((slot) => at(slot).reduce((sum, point) => sum + point.requests.rate, 0)),
      errorRate: slots.map((slot) => at(slot).reduce((sum, point) => sum + point.requests.errorRate, 0)),
      p50: slots.map((slot) => worst(at(slot), (point) => point.requests.p50Ms)),
      p95: slots.map((slot) => worst(at(slot), (point) => point.requests.p95Ms)),
      p99: slots.map((slot) => worst(at(slot), (point) => point.requests.p99Ms)),
    };
  });
}

const HEALTH_WORDS: Record<Health, string> = {
  ready: "● Ready",
  "not-ready": "▲ Not ready",
  down: "✖ Down",
  unknown: "? Unknown",
};

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
const latest = (values: Array<number | null>) =>
  values
    .slice(-RECENT_POINTS)
    .filter((value): value is number => value !== null)
    .at(-1) ?? null;

/** One small chart of the platform panel: its sparklines and its current value in words. */
interface Chart {
  id: string;
  title: string;
  lines: Array<{ label: string; values: Array<number | null> }>;
  /** The current value in words; undefined = no data yet. */
  now: string | undefined;
}

const hasData = (values: Array<number | null>) => values.some((value) => value !== null);
const perSecond = (value: number | null) => `${formatNumber(value ?? 0)}/s`;

/** The platform-wide charts: every instance summed per 5 s sample. */
function platformCharts(series: Series[]): Chart[] {
  const all = slots(series);
  const empty = all.length === 0;
  const confirmed = rateSum(all, "blossom_saga_outcomes_total", { outcome: "confirmed" });
  const cancelled = rateSum(all, "blossom_saga_outcomes_total", { outcome: "cancelled" });
  const confirmedCount = countOver(series, "blossom_saga_outcomes_total", { outcome: "confirmed" });
  const cancelledCount = countOver(series, "blossom_saga_outcomes_total", { outcome: "cancelled" });
  const p50 = histogramMax(all, "blossom_checkout_duration_seconds", "p50").map((v) =>
    v === null ? null : v * 1000,
  );
  const p95 = histogramMax(all, "blossom_checkout_duration_seconds", "p95").map((v) =>
    v === null ? null : v * 1000,
  );
  const backlog = gaugeSum(all, "blossom_outbox_backlog");
  const lag = gaugeSum(all, "blossom_consumer_lag");
  const open = gaugeCount(all, "blossom_circuit_breaker_state", 2);
  const halfOpen = gaugeCount(all, "blossom_circuit_breaker_state", 1);
  const rejections = rateSum(all, "blossom_rate_limit_rejections_total");
  const rejectionCount = countOver(series, "blossom_rate_limit_rejections_total");
  return [
    {
      id: "chart-sagas",
      title: "Checkouts settled",
      lines: [
        { label: "Confirmed checkouts per second, 15 minutes", values: confirmed },
        { label: "Cancelled checkouts per second, 15 minutes", values: cancelled },
      ],
      now: empty
        ? undefined
        : `Confirmed: ${confirmedCount} in 15 minutes (${perSecond(confirmed.at(-1) ?? 0)} now). Cancelled: ${cancelledCount} in 15 minutes (${perSecond(cancelled.at(-1) ?? 0)} now).`,
    },
    {
      id: "chart-checkout-duration",
      title: "Checkout duration",
      lines: [
        { label: "Checkout duration p50 in ms, 15 minutes", values: p50 },
        { label: "Checkout duration p95 in ms, 15 minutes", values: p95 },
      ],
      now: hasData(p95)
        ? `p50 ${formatMs(lastValue(p50))}, p95 ${formatMs(lastValue(p95))} (latest checkouts).`
        : undefined,
    },
    {
      id: "chart-outbox",
      title: "Outbox backlog",
      lines: [{ label: "Outbox events not yet published, 15 minutes", values: backlog }],
      now: hasData(backlog) ? `${formatNumber(lastValue(backlog), 0)} events not yet published.` : undefined,
    },
    {
      id: "chart-lag",
      title: "Consumer lag",
      lines: [{ label: "Events owed to consumers, 15 minutes", values: lag }],
      now: hasData(lag) ? `${formatNumber(lastValue(lag), 0)} events owed to consumers.` : undefined,
    },
    {
      id: "chart-breakers",
      title: "Circuit breakers",
      lines: [
        { label: "Open circuit breakers, 15 minutes", values: open },
        { label: "Half-open circuit breakers, 15 minutes", values: halfOpen },
      ],
      now: hasData(open)
        ? `${formatNumber(lastValue(open), 0)} open, ${formatNumber(lastValue(halfOpen), 0)} half-open.`
        : undefined,
    },
    {
      id: "chart-rate-limit",
      title: "Rate-limit rejections",
      lines: [{ label: "Requests refused with 429 per second, 15 minutes", values: rejections }],
      now: empty ? undefined : `${rejectionCount} in 15 minutes (${perSecond(rejections.at(-1) ?? 0)} now).`,
    },
  ];
}

export function OverviewPage() {
  useTitle("Console: overview");
  const [series, setSeries] = useState<Series[]>([]);
  const [health, setHealth] = useState<Readiness | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [unavailable, setUnavailable] = useState<string[]>([]);
  // Instances that answered the latest read: the series kept for the charts include instances
  // gone since (stopped, restarted under a new address), which must not count as running.
  const [live, setLive] = useState<Record<string, number>>({});
  const [updated, setUpdated] = useState<Date | undefined>(undefined);
  const lastTime = useRef<string | undefined>(undefined);
  const busy = useRef(false);

  const refresh = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      const [metrics, ready] = await Promise.all([
        api<Metrics>(`/api/ops/metrics${query({ since: lastTime.current })}`),
        // 503 when a service is not ready, with the same body: read it either way.
        fetch("/health/ready", { headers: { accept: "application/json" } }).then(
          (response) => response.json() as Promise<Readiness>,
        ),
      ]);
      setSeries((previous) => {
        const next = merge(previous, metrics);
        const times = next.flatMap((one) => one.points.map((point) => point.time)).sort();
        lastTime.current = times.at(-1) ?? lastTime.current;
        return next;
      });
      setUnavailable(metrics.unavailable);
      setLive(answeringInstances(metrics.series, SERVICES));
      setHealth(ready);
      setError(undefined);
      setUpdated(new Date());
    } catch (caught) {
      setError(caught);
    } finally {
      busy.current = false;
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);
  useVisibleInterval(() => void refresh(), REFRESH_MS);

  const rows = figures(series);
  const charts = platformCharts(series);
  return (
    <>
      <h1>Operations console</h1>
      <p className="muted" aria-live="polite">
        Services, their health and their requests over the last 15 minutes; refreshed every 5 seconds while
        this tab is visible.
        {updated ? ` Updated ${updated.toLocaleTimeString(undefined, { hour12: false })}.` : ""}
      </p>
      <Problem error={error} />
      {unavailable.length > 0 && (
        <p className="notice notice-error" role="alert">
          Instances that did not answer: {unavailable.join(", ")}
        </p>
      )}
      <Panel title="Services" id="services-title">
        <div className="table-scroll">
          <table className="console-table">
            <caption className="visually-hidden">
              Each service's health, instances, request rate, error share and latency (the last minute), and
              its request rate over 15 minutes
            </caption>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Health</th>
                <th scope="col">Instances</th>
                <th scope="col">Requests/s</th>
                <th scope="col">Errors</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
                <th scope="col">p99</th>
                <th scope="col">Requests, 15 min</th>
                <th scope="col">p95, 15 min</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const instances = live[row.service] ?? 0;
                const state: Health =
                  row.service === "gateway"
                    ? health
                      ? "ready"
                      : "unknown"
                    : serviceHealth(health?.services[row.service]?.state, instances);
                const rate = mean(row.rate.slice(-RECENT_POINTS));
                const errors = mean(row.errorRate.slice(-RECENT_POINTS));
                return (
                  <tr key={row.service}>
                    <th scope="row">{row.service}</th>
                    <td>
                      <span className={`health health-${state}`}>{HEALTH_WORDS[state]}</span>
                    </td>
                    <td>{instances}</td>
                    <td>{formatNumber(rate)}</td>
                    <td>{rate > 0 ? `${formatNumber((errors / rate) * 100, 1)} %` : "–"}</td>
                    <td>{formatMs(latest(row.p50))}</td>
                    <td>{formatMs(latest(row.p95))}</td>
                    <td>{formatMs(latest(row.p99))}</td>
                    <td>
                      <Sparkline values={row.rate} label={`${row.service} requests per second, 15 minutes`} />
                    </td>
                    <td>
                      <Sparkline values={row.p95} label={`${row.service} p95 latency in ms, 15 minutes`} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <p className="hint">
          Rates are summed over a service's instances; latencies are the slowest instance's. Instances: those
          that answered the latest reading. Health is the gateway's readiness probe of each service (
          <code>/health/ready</code>); “down” when, besides, none of its instances answers.
        </p>
      </Panel>
      <Panel title="Platform" id="platform-title">
        <ul className="console-charts">
          {charts.map((chart) => (
            <li key={chart.id}>
              <h3 id={chart.id}>{chart.title}</h3>
              {chart.now === undefined ? (
                <p className="muted">No data yet.</p>
              ) : (
                <>
                  {chart.lines.map((line) => (
                    <Sparkline key={line.label} values={line.values} label={line.label} />
                  ))}
                  <p>{chart.now}</p>
                </>
              )}
            </li>
          ))}
        </ul>
        <p className="hint">
          Every instance summed per 5-second sample (checkout durations: the slowest instance's); counts over
          15 minutes are the rates times their intervals.
        </p>
      </Panel>
    </>
  );
}
