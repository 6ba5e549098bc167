import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client.js";
import { useTitle } from "../router.js";
import { answeringInstances, type Health, serviceHealth } from "./health.js";
import { formatNumber, Panel, Problem, query, useVisibleInterval } from "./parts.js";
import { CONSUMERS, type Metrics, type Readiness, type Series } from "./types.js";

const REFRESH_MS = 5_000;
/** The rates on the map are the mean of the last minute. */
const WINDOW_MS = 60_000;

/** Traffic on one edge, per second. */
interface Flow {
  rate: number;
  errorRate: number;
}

interface MapData {
  health: Record<string, Health>;
  databases: Record<string, Health>;
  bus: Health;
  instances: Record<string, number>;
  /** gateway → service: the service's requests on its public routes (`/api/…`). */
  requests: Record<string, Flow>;
  /** service → bus: events its outbox relay published. */
  published: Record<string, Flow>;
  /** bus → service: deliveries its consumer finished; errors = failed ones and dead letters. */
  consumed: Record<string, Flow>;
}

/** The mean over an instance's points of `pick`, summed over the service's instances. */
function perSecond(
  series: Series[],
  service: string,
  pick: (point: Series["points"][number]) => number,
): number {
  return series
    .filter((one) => one.service === service && one.points.length > 0)
    .reduce(
      (sum, one) => sum + one.points.reduce((total, point) => total + pick(point), 0) / one.points.length,
      0,
    );
}

function sumRates(rates: Record<string, number>, prefix: string, match?: RegExp): number {
  let sum = 0;
  for (const [key, value] of Object.entries(rates))
    if (key.startsWith(prefix) && (!match || match.test(key))) sum += value;
  return sum;
}

function checkState(detail: unknown, check: string): Health {
  const state = (detail as { checks?: Record<string, { state?: string }> } | undefined)?.checks?.[check]
    ?.state;
  return state === "up" ? "ready" : state === "down" ? "not-ready" : "unknown";
}

function toMap(metrics: Metrics, ready: Readiness | undefined): MapData {
  const { series } = metrics;
  const health: Record<string, Health> = { gateway: ready ? "ready" : "unknown" };
  const databases: Record<string, Health> = {};
  const busStates: Health[] = [];
  const instances = answeringInstances(series, ["gateway", ...CONSUMERS]);
  const requests: Record<string, Flow> = {};
  const published: Record<string, Flow> = {};
  const consumed: Record<string, Flow> = {};
  for (const service of CONSUMERS) {
    const entry = ready?.services[service];
    // A service no instance of which answers is down, not merely not ready.
    health[service] = serviceHealth(entry?.state, instances[service] ?? 0);
    databases[service] = entry?.state === "ready" ? "ready" : checkState(entry?.detail, "database");
    busStates.push(entry?.state === "ready" ? "ready" : checkState(entry?.detail, "bus"));
    const api = (point: Series["points"][number]) =>
      point.routes.filter((route) => route.route.startsWith("/api/"));
    requests[service] = {
      rate: perSecond(series, service, (point) => api(point).reduce((sum, route) => sum + route.rate, 0)),
      errorRate: perSecond(series, service, (point) =>
        api(point).reduce((sum, route) => sum + route.errorRate, 0),
      ),
    };
    published[service] = {
      rate: perSecond(series, service, (point) => sumRates(point.rates, "blossom_events_published_total")),
      errorRate: 0,
    };
    consumed[service] = {
      rate: perSecond(series, service, (point) => sumRates(point.rates, "blossom_events_consumed_total")),
      errorRate: perSecond(
        series,
        service,
        (point) =>
          sumRates(point.rates, "blossom_events_consumed_total", /outcome="failed"/) +
          sumRates(point.rates, "blossom_events_dead_lettered_total"),
      ),
    };
  }
  const bus: Health = busStates.includes("not-ready")
    ? "not-ready"
    : busStates.includes("ready")
      ? "ready"
      : "unknown";
  return { health, databases, bus, instances, requests, published, consumed };
}

const HEALTH_WORDS: Record<Health, string> = {
  ready: "● ready",
  "not-ready": "▲ not ready",
  down: "✖ down",
  unknown: "? unknown",
};

function flowText(flow: Flow | undefined, unit = "/s"): string {
  if (!flow || flow.rate === 0) return `0${unit}`;
  const share = flow.errorRate > 0 ? ` · ${formatNumber((flow.errorRate / flow.rate) * 100, 1)} % err` : "";
  return `${formatNumber(flow.rate)}${unit}${share}`;
}

// The drawing: the gateway on top, the five services in a row, each service's database below it,
// the bus along the bottom. Coordinates are the viewBox's.
const WIDTH = 1000;
const HEIGHT = 520;
const NODE_W = 150;
const NODE_H = 58;
const GATEWAY = { x: WIDTH / 2, y: 50 };
const ROW_Y = 230;
const DB_Y = 345;
const BUS_Y = 465;
const columnX = (index: number) => 100 + index * 200;

function Node({
  x,
  y,
  title,
  lines,
  health,
  label,
  width = NODE_W,
  height = NODE_H,
  shape = "box",
}: {
  x: number;
  y: number;
  title: string;
  lines: string[];
  health: Health;
  label: string;
  width?: number;
  height?: number;
  shape?: "box" | "database";
}) {
  return (
    <svg
      role="img"
      aria-label={label}
      className={`map-node map-${health}`}
      x={x - width / 2}
      y={y - height / 2}
      width={width}
      height={height}
      overflow="visible"
    >
      <rect
        x={0}
        y={0}
        width={width}
        height={height}
        rx={shape === "database" ? 14 : 6}
        className="map-shape"
      />
      <text x={width / 2} y={20} textAnchor="middle" className="map-title">
        {title}
      </text>
      {lines.map((line, index) => (
        <text key={line} x={width / 2} y={38 + index * 15} textAnchor="middle" className="map-detail">
          {line}
        </text>
      ))}
    </svg>
  );
}

function Edge({
  from,
  to,
  text,
  errors,
  textAt,
}: {
  from: { x: number; y: number };
  to: { x: number; y: number };
  text: string;
  errors: boolean;
  textAt?: { x: number; y: number; anchor?: "start" | "middle" | "end" };
}) {
  const at = textAt ?? { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 };
  return (
    <g className={errors ? "map-edge map-edge-errors" : "map-edge"}>
      <line x1={from.x} y1={from.y} x2={to.x} y2={to.y} markerEnd="url(#map-arrow)" />
      <text x={at.x} y={at.y} textAnchor={at.anchor ?? "middle"} className="map-edge-label">
        {text}
      </text>
    </g>
  );
}

/**
 * The service map: the gateway, the five services, their databases and the bus as one SVG, each
 * node with its health (the gateway's readiness probe, which asks every service and each service
 * its database and bus; down when none of a service's instances answers) and the count of its
 * instances that answer, each edge with its traffic over the last minute
 * (requests per second and error share from each service's own route metrics, events per second
 * from the outbox relays and consumers). Refreshed every 5 seconds while the tab is visible.
 */
export function MapPage() {
  useTitle("Console: service map");
  const [data, setData] = useState<MapData | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [unavailable, setUnavailable] = useState<string[]>([]);
  const [updated, setUpdated] = useState<Date | undefined>(undefined);
  const busy = useRef(false);

  const refresh = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      const since = new Date(Date.now() - WINDOW_MS).toISOString();
      const [metrics, ready] = await Promise.all([
        api<Metrics>(`/api/ops/metrics${query({ since })}`),
        // 503 when a service is not ready, with the same body: read it either way.
        fetch("/health/ready", { headers: { accept: "application/json" } })
          .then((response) => response.json() as Promise<Readiness>)
          .catch(() => undefined),
      ]);
      setData(toMap(metrics, ready));
      setUnavailable(metrics.unavailable);
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

  const health = (name: string): Health => data?.health[name] ?? "unknown";
  const instances = (name: string) => data?.instances[name] ?? 0;
  const plural = (count: number) => `${count} ${count === 1 ? "instance" : "instances"}`;
  const gatewayLines = [HEALTH_WORDS[health("gateway")], plural(instances("gateway"))];

  return (
    <>
      <h1>Service map</h1>
      <p className="muted" aria-live="polite">
        The platform's parts and the traffic between them over the last minute; refreshed every 5 seconds
        while this tab is visible.
        {updated ? ` Updated ${updated.toLocaleTimeString(undefined, { hour12: false })}.` : ""}
      </p>
      <Problem error={error} />
      {unavailable.length > 0 && (
        <p className="notice notice-error" role="alert">
          Instances that did not answer: {unavailable.join(", ")}
        </p>
      )}
      <Panel title="Map" id="map-title">
        {!data && !error ? (
          <p role="status">Loading…</p>
        ) : (
          <div className="map-scroll">
            <svg className="service-map" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%">
              <title>
                The gateway, the five services, their databases and the bus, with the traffic between them
              </title>
              <defs>
                <marker
                  id="map-arrow"
                  viewBox="0 0 10 10"
                  refX="9"
                  refY="5"
                  markerWidth="7"
                  markerHeight="7"
                  orient="auto"
                >
                  <path d="M 0 0 L 10 5 L 0 10 z" className="map-arrow" />
                </marker>
              </defs>
              {CONSUMERS.map((service, index) => {
                const x = columnX(index);
                const flow = data?.requests[service];
                const published = data?.published[service];
                const consumed = data?.consumed[service];
                return (
                  <g key={`edges-${service}`}>
                    <Edge
                      from={{ x: GATEWAY.x, y: GATEWAY.y + NODE_H / 2 }}
                      to={{ x, y: ROW_Y - NODE_H / 2 - 2 }}
                      text={flowText(flow)}
                      errors={(flow?.errorRate ?? 0) > 0}
                      textAt={{
                        x: x + (x < GATEWAY.x ? 40 : x > GATEWAY.x ? -40 : 8),
                        y: ROW_Y - NODE_H / 2 - 16,
                        anchor: x === GATEWAY.x ? "start" : "middle",
                      }}
                    />
                    <Edge
                      from={{ x, y: ROW_Y + NODE_H / 2 }}
                      to={{ x, y: DB_Y - 22 }}
                      text=""
                      errors={false}
                    />
                    <Edge
                      from={{ x: x + 68, y: ROW_Y + NODE_H / 2 }}
                      to={{ x: x + 68, y: BUS_Y - 22 }}
                      text=""
                      errors={false}
                    />
                    <Edge
                      from={{ x: x - 68, y: BUS_Y - 22 }}
                      to={{ x: x - 68, y: ROW_Y + NODE_H / 2 + 2 }}
                      text=""
                      errors={(consumed?.errorRate ?? 0) > 0}
                    />
                    <text x={x} y={BUS_Y - 52} textAnchor="middle" className="map-edge-label">
                      out {flowText(published)}
                    </text>
                    <text
                      x={x}
                      y={BUS_Y - 37}
                      textAnchor="middle"
                      className={
                        (consumed?.errorRate ?? 0) > 0
                          ? "map-edge-label map-edge-label-errors"
                          : "map-edge-label"
                      }
                    >
                      in {flowText(consumed)}
                    </text>
                  </g>
                );
              })}
              <Node
                x={GATEWAY.x}
                y={GATEWAY.y}
                title="gateway"
                lines={gatewayLines}
                health={health("gateway")}
                label={`gateway: ${HEALTH_WORDS[health("gateway")].slice(2)}, ${plural(instances("gateway"))}`}
              />
              {CONSUMERS.map((service, index) => (
                <Node
                  key={service}
                  x={columnX(index)}
                  y={ROW_Y}
                  title={service}
                  lines={[HEALTH_WORDS[health(service)], plural(instances(service))]}
                  health={health(service)}
                  label={`${service}: ${HEALTH_WORDS[health(service)].slice(2)}, ${plural(instances(service))}, ${flowText(data?.requests[service], " requests/s")}`}
                />
              ))}
              {CONSUMERS.map((service, index) => {
                const state = data?.databases[service] ?? "unknown";
                return (
                  <Node
                    key={`db-${service}`}
                    x={columnX(index)}
                    y={DB_Y + 6}
                    width={124}
                    height={52}
                    shape="database"
                    title={service}
                    lines={[`database · ${HEALTH_WORDS[state]}`]}
                    health={state}
                    label={`${service} database: ${HEALTH_WORDS[state].slice(2)}`}
                  />
                );
              })}
              <Node
                x={WIDTH / 2}
                y={BUS_Y + 8}
                width={WIDTH - 40}
                height={56}
                title="bus"
                lines={[`${HEALTH_WORDS[data?.bus ?? "unknown"]} · outbox → bus → inbox`]}
                health={data?.bus ?? "unknown"}
                label={`bus: ${HEALTH_WORDS[data?.bus ?? "unknown"].slice(2)}`}
              />
            </svg>
          </div>
        )}
        <p className="hint">
          Edges from the gateway: each service's requests per second on its public routes (<code>/api/…</code>
          ) and the share answered 5xx. Above the bus, per service: “out”, the events its outbox published
          (the arrow down); “in”, the deliveries its consumer finished (the arrow up), with the share that
          failed or was dead-lettered. Health: the gateway's readiness probe, in which each service checks its
          database and the bus; “down” when, besides, none of the service's instances answers.
        </p>
      </Panel>
      <Panel title="Traffic" id="traffic-title">
        <div className="table-scroll">
          <table className="console-table">
            <caption className="visually-hidden">
              Each service's traffic over the last minute, per second
            </caption>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Health</th>
                <th scope="col">Instances</th>
                <th scope="col">Requests from the gateway</th>
                <th scope="col">Events published</th>
                <th scope="col">Events consumed</th>
              </tr>
            </thead>
            <tbody>
              {CONSUMERS.map((service) => (
                <tr key={service}>
                  <th scope="row">{service}</th>
                  <td>
                    <span className={`health health-${health(service)}`}>
                      {HEALTH_WORDS[health(service)]}
                    </span>
                  </td>
                  <td>{instances(service)}</td>
                  <td>{flowText(data?.requests[service])}</td>
                  <td>{flowText(data?.published[service])}</td>
                  <td>{flowText(data?.consumed[service])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Panel>
    </>
  );
}
