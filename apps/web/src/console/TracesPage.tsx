import { type FormEvent, useEffect, useState } from "react";
import { api, isAbort } from "../api/client.js";
import { Link, navigate, useLocation, useTitle } from "../router.js";
import { useApi } from "../use-api.js";
import { formatMs, formatTime, Panel, Problem, query, ServiceFilter, spanLabel } from "./parts.js";

import type { Logs, Trace, TraceDetail, TraceList } from "./types.js";

/** The filters, kept in the URL (a filtered list can be shared, and Back works). */
function readFilters(params: URLSearchParams) {
  return {
    service: params.get("service") ?? "",
    status: params.get("status") ?? "",
    minMs: params.get("minMs") ?? "",
    orderId: params.get("orderId") ?? "",
  };
}

/** A trace's line in the list, from its spans (a trace older than the list's newest 100). */
function summarize(detail: TraceDetail): Trace {
  const spans = detail.spans;
  const starts = spans.map((span) => Date.parse(span.startTime));
  const start = Math.min(...starts);
  const end = Math.max(...spans.map((span, index) => (starts[index] ?? start) + span.durationMs));
  const root = spans.find((span) => !spans.some((other) => other.spanId === span.parentSpanId));
  return {
    traceId: detail.traceId,
    rootName: root ? spanLabel(root) : "(no root)",
    services: [...new Set(spans.map((span) => span.service))],
    spanCount: spans.length,
    startTime: new Date(start).toISOString(),
    durationMs: end - start,
    error: spans.some((span) => span.status === "error"),
  };
}

/**
 * The traces of the log lines that mention an order (the traces list carries no order ids): their
 * ids, and each one's summary (read one by one: they may be older than the list's newest 100).
 */
function useOrderTraces(orderId: string): { ids: Set<string> | undefined; traces: Trace[]; error: unknown } {
  const [state, setState] = useState<{ ids: Set<string> | undefined; traces: Trace[]; error: unknown }>({
    ids: undefined,
    traces: [],
    error: undefined,
  });
  useEffect(() => {
    if (!orderId) {
      setState({ ids: undefined, traces: [], error: undefined });
      return;
    }
    const controller = new AbortController();
    const signal = controller.signal;
    (async () => {
      const logs = await api<Logs>(`/api/ops/logs${query({ orderId, limit: 1000 })}`, { signal });
      const ids = new Set(logs.items.map((line) => line.traceId).filter((id): id is string => !!id));
      const details = await Promise.all(
        [...ids].slice(0, 20).map((id) =>
          api<TraceDetail>(`/api/ops/traces/${id}`, { signal }).catch((error: unknown) => {
            if (isAbort(error)) throw error;
            return undefined; // no longer kept in memory
          }),
        ),
      );
      const traces = details.filter((detail): detail is TraceDetail => !!detail?.spans.length).map(summarize);
      setState({ ids, traces, error: undefined });
    })().catch((error: unknown) => {
      if (!signal.aborted) setState({ ids: new Set(), traces: [], error });
    });
    return () => controller.abort();
  }, [orderId]);
  return state;
}

export function TracesPage() {
  useTitle("Console: traces");
  const { query: params } = useLocation();
  const filters = readFilters(params);
  const [draft, setDraft] = useState(filters);
  const list = useApi<TraceList>(`/api/ops/traces${query({ service: filters.service, limit: 100 })}`);
  const order = useOrderTraces(filters.orderId);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    navigate(`/console/traces${query(draft)}`, { replace: true });
  };
  const minMs = Number(filters.minMs) || 0;
  const listed = list.data?.items ?? [];
  const candidates = order.ids
    ? [...order.traces].sort((a, b) => Date.parse(b.startTime) - Date.parse(a.startTime))
    : listed;
  const shown = candidates.filter(
    (trace) =>
      (filters.status === "" || (filters.status === "error") === trace.error) &&
      trace.durationMs >= minMs &&
      (filters.service === "" || trace.services.includes(filters.service)),
  );

  return (
    <>
      <h1>Traces</h1>
      <form className="filters console-filters" onSubmit={apply} aria-label="Filter traces">
        <ServiceFilter
          id="trace-service"
          value={draft.service}
          onChange={(service) => setDraft({ ...draft, service })}
        />
        <div className="field">
          <label htmlFor="trace-status">Status</label>
          <select
            id="trace-status"
            value={draft.status}
            onChange={(event) => setDraft({ ...draft, status: event.target.value })}
          >
            <option value="">Any</option>
            <option value="ok">OK</option>
            <option value="error">Failed</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="trace-min">Minimum duration (ms)</label>
          <input
            id="trace-min"
            type="number"
            min="0"
            inputMode="numeric"
            value={draft.minMs}
            onChange={(event) => setDraft({ ...draft, minMs: event.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="trace-order">Order id</label>
          <input
            id="trace-order"
            value={draft.orderId}
            onChange={(event) => setDraft({ ...draft, orderId: event.target.value.trim() })}
          />
        </div>
        <button type="submit" className="button">
          Filter
        </button>
        <button type="button" className="button" onClick={list.reload}>
          Refresh
        </button>
      </form>
      <Problem error={list.error ?? order.error} />
      <Panel title="Recent traces" id="traces-title">
        <p className="muted" role="status">
          {list.loading
            ? "Loading…"
            : `${shown.length} of the ${list.data?.items.length ?? 0} newest traces kept in memory.`}
          {filters.orderId ? ` Those whose log lines mention order ${filters.orderId}.` : ""}
        </p>
        {shown.length > 0 && (
          <div className="table-scroll">
            <table className="console-table">
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Trace</th>
                  <th scope="col">Services</th>
                  <th scope="col">Spans</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((trace) => (
                  <tr key={trace.traceId}>
                    <td>{formatTime(trace.startTime)}</td>
                    <td>
                      <Link to={`/console/traces/${trace.traceId}`}>{trace.rootName}</Link>
                      <div className="muted mono">{trace.traceId}</div>
                    </td>
                    <td>{trace.services.join(", ")}</td>
                    <td>{trace.spanCount}</td>
                    <td>{formatMs(trace.durationMs)}</td>
                    <td>{trace.error ? <span className="status-failed">Failed</span> : "OK"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </>
  );
}
