import { Link, useTitle } from "../router.js";
import { useApi } from "../use-api.js";
import { formatMs, Json, Panel, Problem, spanLabel } from "./parts.js";
import type { Span, TraceDetail } from "./types.js";

interface Row {
  span: Span;
  depth: number;
  offsetMs: number;
}

/** Depth first, children by start time: the order a waterfall reads in. */
function rows(spans: Span[]): { rows: Row[]; totalMs: number } {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string | null, Span[]>();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  for (const list of children.values())
    list.sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
  const start = Math.min(...spans.map((span) => Date.parse(span.startTime)));
  const end = Math.max(...spans.map((span) => Date.parse(span.startTime) + span.durationMs));
  const out: Row[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      out.push({ span, depth, offsetMs: Date.parse(span.startTime) - start });
      walk(span.spanId, depth + 1);
    }
  };
  walk(null, 0);
  return { rows: out, totalMs: Math.max(end - start, 1) };
}

const KIND_LABEL: Record<Span["kind"], string> = {
  server: "server",
  client: "client",
  internal: "internal",
  producer: "bus: publish",
  consumer: "bus: process",
};

export function WaterfallPage({ traceId }: { traceId: string }) {
  useTitle(`Console: trace ${traceId.slice(0, 8)}`);
  const trace = useApi<TraceDetail>(`/api/ops/traces/${encodeURIComponent(traceId)}`);
  const spans = trace.data?.spans ?? [];
  const { rows: ordered, totalMs } = spans.length ? rows(spans) : { rows: [], totalMs: 1 };
  const services = [...new Set(spans.map((span) => span.service))];
  const hops = spans.filter((span) => span.kind === "producer" || span.kind === "consumer").length;
  const WIDTH = 400;

  return (
    <>
      <p>
        <Link to="/console/traces">← All traces</Link>
      </p>
      <h1>Trace {traceId}</h1>
      <Problem error={trace.error} />
      {trace.loading && <p role="status">Loading the trace…</p>}
      {spans.length > 0 && (
        <>
          <p>
            {spans.length} spans over {formatMs(totalMs)} in {services.join(", ")}; {hops} bus{" "}
            {hops === 1 ? "span" : "spans"} (publish and process).{" "}
            <Link to={`/console/logs?traceId=${traceId}`}>Logs of this trace</Link>
          </p>
          <Panel title="Waterfall" id="waterfall-title">
            <div className="table-scroll">
              <table className="console-table waterfall">
                <caption className="visually-hidden">
                  The trace's spans, nested by parent, each with its start and duration drawn as a bar
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Span</th>
                    <th scope="col">Service</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Start</th>
                    <th scope="col">Duration</th>
                    <th scope="col">Timeline</th>
                  </tr>
                </thead>
                <tbody>
                  {ordered.map(({ span, depth, offsetMs }) => {
                    const x = (offsetMs / totalMs) * WIDTH;
                    const width = Math.max((span.durationMs / totalMs) * WIDTH, 1.5);
                    return (
                      <tr key={span.spanId} className={`span-${span.kind}`}>
                        <td>
                          <details className={`depth-${Math.min(depth, 12)}`}>
                            <summary>
                              {span.status === "error" && <span className="status-failed">✖ </span>}
                              {spanLabel(span)}
                            </summary>
                            <Json value={span.attributes} />
                          </details>
                        </td>
                        <td>{span.service}</td>
                        <td>{KIND_LABEL[span.kind]}</td>
                        <td>+{formatMs(offsetMs)}</td>
                        <td>{formatMs(span.durationMs)}</td>
                        <td>
                          <svg width={WIDTH} height="14" viewBox={`0 0 ${WIDTH} 14`} aria-hidden="true">
                            <rect className="bar-track" x="0" y="6" width={WIDTH} height="2" />
                            <rect
                              className={`bar bar-${span.kind}${span.status === "error" ? " bar-error" : ""}`}
                              x={Math.min(x, WIDTH - width)}
                              y="2"
                              width={width}
                              height="10"
                              rx="2"
                            />
                          </svg>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <p className="hint">
              Open a span's name for its attributes. Bus hops are the "bus: publish" span of the producer and
              the "bus: process" span of each consumer, nested under it.
            </p>
          </Panel>
        </>
      )}
    </>
  );
}
