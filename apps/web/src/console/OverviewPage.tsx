import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client.js";
import { useTitle } from "../router.js";
import { formatMs, formatNumber, Panel, Problem, query, Sparkline, useVisibleInterval } from "./parts.js";
import { type Metrics, type MetricsPoint, type Readiness, SERVICES, type Series } from "./types.js";

const REFRESH_MS = 5_000;
/** The last minute, for the table's "now" figures (points are 5 s apart). */
const RECENT_POINTS = 12;
const MAX_POINTS = 180;

/** One service's figures, summed over its instances point by point (by time). */
interface ServiceFigures {
  service: string;
  instances: number;
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
      instances: mine.length,
      rate: slots.map((slot) => at(slot).reduce((sum, point) => sum + point.requests.rate, 0)),
      errorRate: slots.map((slot) => at(slot).reduce((sum, point) => sum + point.requests.errorRate, 0)),
      p50: slots.map((slot) => worst(at(slot), (point) => point.requests.p50Ms)),
      p95: slots.map((slot) => worst(at(slot), (point) => point.requests.p95Ms)),
      p99: slots.map((slot) => worst(at(slot), (point) => point.requests.p99Ms)),
    };
  });
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
const latest = (values: Array<number | null>) =>
  values
    .slice(-RECENT_POINTS)
    .filter((value): value is number => value !== null)
    .at(-1) ?? null;

export function OverviewPage() {
  useTitle("Console: overview");
  const [series, setSeries] = useState<Series[]>([]);
  const [health, setHealth] = useState<Readiness | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [unavailable, setUnavailable] = useState<string[]>([]);
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
                const state =
                  row.service === "gateway"
                    ? health
                      ? "ready"
                      : undefined
                    : health?.services[row.service]?.state;
                const rate = mean(row.rate.slice(-RECENT_POINTS));
                const errors = mean(row.errorRate.slice(-RECENT_POINTS));
                return (
                  <tr key={row.service}>
                    <th scope="row">{row.service}</th>
                    <td>
                      <span className={`health health-${state ?? "unknown"}`}>
                        {state === "ready" ? "● Ready" : state === "not-ready" ? "▲ Not ready" : "? Unknown"}
                      </span>
                    </td>
                    <td>{row.instances}</td>
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
          Rates are summed over a service's instances; latencies are the slowest instance's. Health is the
          gateway's readiness probe of each service (<code>/health/ready</code>).
        </p>
      </Panel>
    </>
  );
}
