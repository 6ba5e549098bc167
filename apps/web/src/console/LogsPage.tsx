import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { api, isAbort } from "../api/client.js";
import { Link, navigate, useLocation, useTitle } from "../router.js";
import { formatTime, Json, Problem, query, ServiceFilter, useVisibleInterval } from "./parts.js";

import type { LogLine, Logs } from "./types.js";

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
/** How often the live tail asks for new lines (a timer, stopped while the tab is hidden). */
const TAIL_MS = 2_000;
/** Lines kept on screen; older ones drop off the top. */
const MAX_LINES = 1_000;

/** A line with a key of its own (lines carry no id). */
interface Numbered {
  key: number;
  line: LogLine;
}
let received = 0;
const numbered = (items: LogLine[]): Numbered[] => items.map((line) => ({ key: ++received, line }));

function readFilters(params: URLSearchParams) {
  return {
    service: params.get("service") ?? "",
    level: params.get("level") ?? "",
    traceId: params.get("traceId") ?? "",
    orderId: params.get("orderId") ?? "",
  };
}

export function LogsPage() {
  useTitle("Console: logs");
  const { query: params } = useLocation();
  const filters = readFilters(params);
  const key = query(filters);
  const [draft, setDraft] = useState(filters);
  const [lines, setLines] = useState<Numbered[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [tail, setTail] = useState(false);
  const cursor = useRef<string | undefined>(undefined);
  const busy = useRef(false);

  useEffect(() => {
    setDraft(readFilters(new URLSearchParams(key)));
    const controller = new AbortController();
    setLoading(true);
    cursor.current = undefined;
    api<Logs>(`/api/ops/logs${key ? `${key}&` : "?"}limit=300`, { signal: controller.signal }).then(
      (page) => {
        cursor.current = page.cursor;
        setLines(numbered(page.items));
        setError(undefined);
        setLoading(false);
      },
      (caught: unknown) => {
        if (isAbort(caught)) return;
        setError(caught);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [key]);

  const follow = useCallback(async () => {
    if (busy.current || cursor.current === undefined) return;
    busy.current = true;
    try {
      const filtersNow = Object.fromEntries(new URLSearchParams(key));
      const page = await api<Logs>(
        `/api/ops/logs${query({ ...filtersNow, after: cursor.current, limit: 500 })}`,
      );
      cursor.current = page.cursor;
      if (page.items.length) setLines((previous) => [...previous, ...numbered(page.items)].slice(-MAX_LINES));
      setError(undefined);
    } catch (caught) {
      setError(caught);
    } finally {
      busy.current = false;
    }
  }, [key]);
  useVisibleInterval(() => void follow(), TAIL_MS, tail);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    navigate(`/console/logs${query(draft)}`, { replace: true });
  };

  return (
    <>
      <h1>Logs</h1>
      <form className="filters console-filters" onSubmit={apply} aria-label="Filter log lines">
        <ServiceFilter
          id="log-service"
          value={draft.service}
          onChange={(service) => setDraft({ ...draft, service })}
        />
        <div className="field">
          <label htmlFor="log-level">Level and above</label>
          <select
            id="log-level"
            value={draft.level}
            onChange={(event) => setDraft({ ...draft, level: event.target.value })}
          >
            <option value="">Any</option>
            {LEVELS.map((level) => (
              <option key={level}>{level}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="log-trace">Trace id</label>
          <input
            id="log-trace"
            value={draft.traceId}
            pattern="[0-9a-f]{32}"
            onChange={(event) => setDraft({ ...draft, traceId: event.target.value.trim() })}
          />
        </div>
        <div className="field">
          <label htmlFor="log-order">Order id</label>
          <input
            id="log-order"
            value={draft.orderId}
            onChange={(event) => setDraft({ ...draft, orderId: event.target.value.trim() })}
          />
        </div>
        <button type="submit" className="button">
          Filter
        </button>
        <label className="checkbox console-tail">
          <input type="checkbox" checked={tail} onChange={(event) => setTail(event.target.checked)} /> Live
          tail
        </label>
      </form>
      <p className="hint">
        Live tail asks for the lines logged since the last answer (the API's cursor) every 2 seconds, and
        stops while this tab is hidden.
      </p>
      <Problem error={error} />
      <p className="muted" role="status">
        {loading ? "Loading…" : `${lines.length} lines, oldest first${tail ? ", following" : ""}.`}
      </p>
      {lines.length > 0 && (
        <div className="table-scroll">
          <table className="console-table logs">
            <caption className="visually-hidden">Log lines, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Level</th>
                <th scope="col">Service</th>
                <th scope="col">Message</th>
                <th scope="col">Trace</th>
              </tr>
            </thead>
            <tbody>
              {lines.map(({ key: rowKey, line }) => (
                <tr key={rowKey} className={`level-${line.level}`}>
                  <td className="mono">{formatTime(line.time)}</td>
                  <td>{line.level}</td>
                  <td>
                    {line.service}
                    <div className="muted">{line.instance}</div>
                  </td>
                  <td>
                    <details>
                      <summary>
                        {line.msg}
                        {line.truncated ? " (cut)" : ""}
                      </summary>
                      <Json value={line.fields} />
                    </details>
                  </td>
                  <td>
                    {line.traceId ? (
                      <Link to={`/console/traces/${line.traceId}`} className="mono">
                        <span className="visually-hidden">Trace </span>
                        {line.traceId.slice(0, 8)}
                      </Link>
                    ) : (
                      "–"
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
