import { useEffect, useState } from "react";
import { api } from "../api/client.js";
import { Link, navigate, useLocation, useTitle } from "../router.js";
import { useApi } from "../use-api.js";
import { formatMs, formatTime, Panel, Problem, query, useVisibleInterval } from "./parts.js";
import type { Saga, Sagas } from "./types.js";

const REFRESH_MS = 5_000;
const PAGE = 25;
const STATUSES = ["pending", "confirmed", "cancelled"] as const;

/** What the saga is waiting for at `step` (services/orders/src/domain/order.ts). */
const WAITING_FOR: Record<string, string> = {
  reserving: "waiting for inventory to reserve the stock",
  authorizing: "waiting for payments to authorize the card",
  done: "done",
};

function money(total: Saga["total"]): string {
  return `${(total.amount / 100).toFixed(2)} ${total.currency}`;
}

/**
 * One order's steps, oldest first: each status change from its history with the time since the
 * one before, then, while pending, the step it waits on and its deadline.
 */
function Timeline({ saga, now }: { saga: Saga; now: number }) {
  const start = Date.parse(saga.createdAt);
  return (
    <ol className="saga-timeline" aria-label={`Steps of order ${saga.id}`}>
      {saga.history.map((entry, index) => {
        const previous = index === 0 ? start : Date.parse(saga.history[index - 1]?.at ?? saga.createdAt);
        const label = index === 0 && entry.status === "pending" ? "placed" : entry.status;
        return (
          <li key={`${entry.status}-${entry.at}`} className={`saga-step saga-${entry.status}`}>
            <span className="saga-step-name">{label}</span>{" "}
            <time dateTime={entry.at}>{formatTime(entry.at)}</time>
            {index > 0 && <span className="muted"> (+{formatMs(Date.parse(entry.at) - previous)})</span>}
          </li>
        );
      })}
      {saga.status === "pending" && (
        <li className="saga-step saga-waiting">
          <span className="saga-step-name">{saga.step ?? "pending"}</span>:{" "}
          {WAITING_FOR[saga.step ?? ""] ?? "waiting"}
          {saga.deadline && (
            <>
              {", "}
              {Date.parse(saga.deadline) < now
                ? `deadline passed ${formatMs(now - Date.parse(saga.deadline))} ago`
                : `deadline in ${formatMs(Date.parse(saga.deadline) - now)}`}
            </>
          )}
        </li>
      )}
      {saga.cancellationReason && (
        <li className="saga-step">reason: {saga.cancellationReason.replaceAll("_", " ")}</li>
      )}
    </ol>
  );
}

/**
 * The checkout sagas (`GET /api/orders/sagas`, admins): how many orders are in each status, and
 * every order with its step timeline; pending orders past their deadline are marked (the deadline
 * sweeper cancels them, so one that stays is a stuck sweeper). Refreshed every 5 seconds.
 */
export function SagasPage() {
  useTitle("Console: sagas");
  const { query: params } = useLocation();
  const status = params.get("status") ?? "";
  const overdue = params.get("overdue") === "true";
  const path = `/api/orders/sagas${query({ status, overdue: overdue ? "true" : undefined, limit: PAGE })}`;
  const first = useApi<Sagas>(path);
  const [more, setMore] = useState<{ items: Saga[]; cursor: string | null; error: unknown }>({
    items: [],
    cursor: null,
    error: undefined,
  });
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setMore({ items: [], cursor: first.data?.nextCursor ?? null, error: undefined });
    setNow(Date.now());
  }, [first.data]);
  // Only the first page follows the platform: a list grown by "Older orders" stays as it is.
  useVisibleInterval(first.reload, REFRESH_MS, more.items.length === 0);

  const choose = (next: { status?: string; overdue?: boolean }) => {
    const values = { status, overdue, ...next };
    navigate(
      `/console/sagas${query({ status: values.status, overdue: values.overdue ? "true" : undefined })}`,
      { replace: true },
    );
  };
  const loadOlder = async () => {
    if (!more.cursor) return;
    try {
      const page = await api<Sagas>(
        `/api/orders/sagas${query({ status, overdue: overdue ? "true" : undefined, limit: PAGE, cursor: more.cursor })}`,
      );
      setMore((previous) => ({
        items: [...previous.items, ...page.items],
        cursor: page.nextCursor,
        error: undefined,
      }));
    } catch (error) {
      setMore((previous) => ({ ...previous, error }));
    }
  };
  const counts = first.data?.counts;
  const sagas = [...(first.data?.items ?? []), ...more.items];

  return (
    <>
      <h1>Sagas</h1>
      <p>
        Each checkout is a saga run by orders: placed (pending), stock reserved by inventory, card authorized
        by payments, then confirmed — or cancelled, with a reason, when a step fails or its deadline passes.
      </p>
      <Problem error={first.error} />
      <section aria-labelledby="counts-title" className="console-panel">
        <h2 id="counts-title">Orders by status</h2>
        <ul className="saga-counts">
          <li>
            <button
              type="button"
              className="saga-count"
              aria-pressed={!status && !overdue}
              onClick={() => choose({ status: "", overdue: false })}
            >
              All <strong>{counts ? counts.pending + counts.confirmed + counts.cancelled : "–"}</strong>
            </button>
          </li>
          {STATUSES.map((name) => (
            <li key={name}>
              <button
                type="button"
                className={`saga-count saga-${name}`}
                aria-pressed={status === name && !overdue}
                onClick={() => choose({ status: name, overdue: false })}
              >
                {name} <strong>{counts?.[name] ?? "–"}</strong>
              </button>
            </li>
          ))}
          <li>
            <button
              type="button"
              className={`saga-count${counts?.overdue ? " saga-overdue" : ""}`}
              aria-pressed={overdue}
              onClick={() => choose({ status: "", overdue: true })}
            >
              past deadline <strong>{counts?.overdue ?? "–"}</strong>
            </button>
          </li>
        </ul>
      </section>
      <Panel
        title={overdue ? "Pending past their deadline" : status ? `Orders ${status}` : "Orders"}
        id="orders-title"
        actions={
          <button type="button" className="button" onClick={first.reload}>
            Refresh
          </button>
        }
      >
        {first.loading && !first.data ? (
          <p role="status">Loading…</p>
        ) : sagas.length === 0 ? (
          <p className="muted">No orders.</p>
        ) : (
          <div className="table-scroll">
            <table className="console-table sagas">
              <caption className="visually-hidden">
                Orders, newest first, with their status, saga step, total, deadline and steps
              </caption>
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Status</th>
                  <th scope="col">Placed</th>
                  <th scope="col">Total</th>
                  <th scope="col">Steps</th>
                  <th scope="col">Links</th>
                </tr>
              </thead>
              <tbody>
                {sagas.map((saga) => (
                  <tr key={saga.id} className={saga.overdue ? "saga-row-overdue" : undefined}>
                    <th scope="row" className="mono">
                      {saga.id}
                    </th>
                    <td>
                      <span className={`saga-status saga-${saga.status}`}>{saga.status}</span>
                      {saga.overdue && (
                        <>
                          {" "}
                          <strong className="saga-overdue-badge">▲ past deadline</strong>
                        </>
                      )}
                    </td>
                    <td>
                      <time dateTime={saga.createdAt}>{formatTime(saga.createdAt)}</time>
                    </td>
                    <td>
                      {money(saga.total)} ({saga.itemCount} {saga.itemCount === 1 ? "item" : "items"})
                    </td>
                    <td>
                      <Timeline saga={saga} now={now} />
                    </td>
                    <td>
                      <Link to={`/console/traces${query({ orderId: saga.id })}`}>Traces</Link>
                      {" · "}
                      <Link to={`/console/logs${query({ orderId: saga.id })}`}>Logs</Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Problem error={more.error} />
        {more.cursor && (
          <button type="button" className="button" onClick={() => void loadOlder()}>
            Older orders
          </button>
        )}
      </Panel>
    </>
  );
}
