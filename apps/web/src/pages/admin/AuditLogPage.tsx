import { type FormEvent, useEffect, useState } from "react";
import { api, isAbort } from "../../api/client.js";
import type { AuditLog, AuditRecord, Money } from "../../api/types.js";
import { ColumnHeads, ErrorMessage, Loading } from "../../components/ui.js";
import { formatDate, formatMoney } from "../../format.js";
import { Link, navigate, useLocation, useTitle } from "../../router.js";
import { useSession } from "../../session.js";
import { AdminNav } from "./AdminNav.js";

/** The services that keep an audit log (each serves its own at `GET /api/<service>/audit`). */
const SERVICES = [
  { name: "inventory", label: "Catalog and stock (inventory)" },
  { name: "orders", label: "Orders" },
  { name: "payments", label: "Payments" },
  { name: "users", label: "Accounts and sign-ins (users)" },
] as const;
type Service = (typeof SERVICES)[number]["name"];

const PAGE_SIZE = 25;

const isMoney = (value: unknown): value is Money =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Money).amount === "number" &&
  typeof (value as Money).currency === "string";

/** An entry's details as a person reads them: prices in money, left-out values left out. */
function Details({ details }: { details: unknown }) {
  if (details === null || details === undefined) return <span className="muted">—</span>;
  if (typeof details !== "object") return <>{String(details)}</>;
  const entries = Object.entries(details as Record<string, unknown>).filter(
    ([, value]) => value !== undefined,
  );
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="details">
      {entries.map(([key, value]) => (
        <li key={key}>
          {key}:{" "}
          {isMoney(value) ? formatMoney(value) : typeof value === "string" ? value : JSON.stringify(value)}
        </li>
      ))}
    </ul>
  );
}

/** Who did it: the admin reading the log is "you"; system work and anonymous calls say so. */
function Actor({ actor, me }: { actor: string; me: string | undefined }) {
  if (actor === me) return <>You</>;
  if (actor === "anonymous" || actor.startsWith("system:")) return <>{actor}</>;
  return <code>{actor}</code>;
}

function Target({ record, service }: { record: AuditRecord; service: Service }) {
  if (service === "inventory" && /^(product|stock)\./.test(record.action))
    return (
      <Link to={`/admin/products/${encodeURIComponent(record.target)}`}>
        Product {record.target.slice(0, 8)}
      </Link>
    );
  return <code>{record.target}</code>;
}

/**
 * The audit log of one service, newest first: what was done, by whom, to what, when, and under
 * which request id (to find its trace and logs). Filter by action; older entries page in with the
 * API's `before` cursor.
 */
export function AuditLogPage() {
  useTitle("Admin: audit log");
  const { query } = useLocation();
  const asked = query.get("service");
  const service: Service = SERVICES.find((entry) => entry.name === asked)?.name ?? "inventory";
  const action = query.get("action") ?? "";
  const [actionInput, setActionInput] = useState(action);

  const go = (next: { service: Service; action: string }) => {
    const url = new URLSearchParams({ service: next.service });
    if (next.action) url.set("action", next.action);
    navigate(`/admin/audit?${url}`);
  };
  const onFilter = (event: FormEvent) => {
    event.preventDefault();
    go({ service, action: actionInput.trim() });
  };

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <AdminNav />
      <form className="filters" onSubmit={onFilter}>
        <div className="field">
          <label htmlFor="audit-service">Service</label>
          <select
            id="audit-service"
            value={service}
            onChange={(event) => go({ service: event.target.value as Service, action: "" })}
          >
            {SERVICES.map((entry) => (
              <option key={entry.name} value={entry.name}>
                {entry.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <input
            id="audit-action"
            type="search"
            value={actionInput}
            placeholder="e.g. product.updated"
            onChange={(event) => setActionInput(event.target.value)}
          />
        </div>
        <button type="submit">Filter</button>
      </form>
      {/* A new service or filter starts again from the newest entry (a fresh list). */}
      <AuditEntries key={`${service} ${action}`} service={service} action={action} />
    </section>
  );
}

/** The entries of one service (and action), newest first; "Older entries" pages in with `before`. */
function AuditEntries({ service, action }: { service: Service; action: string }) {
  const { user } = useSession();
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [before, setBefore] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    const controller = new AbortController();
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (action) params.set("action", action);
    if (before) params.set("before", before);
    setLoading(true);
    setError(undefined);
    api<AuditLog>(`/api/${service}/audit?${params}`, { signal: controller.signal }).then(
      (page) => {
        setRecords((previous) => (before ? [...previous, ...page.items] : page.items));
        setNext(page.nextCursor);
        setLoading(false);
      },
      (failure: unknown) => {
        if (isAbort(failure)) return;
        setError(failure);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [service, action, before]);

  return (
    <>
      <ErrorMessage error={error} />
      {!loading && !error && records.length === 0 && (
        <p>No entries{action ? ` for the action “${action}”` : ""} yet.</p>
      )}
      {records.length > 0 && (
        <div className="table-scroll">
          <table className="orders-table audit-table">
            <ColumnHeads
              caption={`Audit log of ${service}, newest first${action ? `, action ${action}` : ""}`}
              columns={["When", "Action", "Who", "Target", "Details"]}
            />
            <tbody>
              {records.map((record) => (
                <tr key={record.id}>
                  <td>{formatDate(record.at)}</td>
                  <td>
                    <code>{record.action}</code>
                  </td>
                  <td>
                    <Actor actor={record.actor} me={user?.id} />
                  </td>
                  <td>
                    <Target record={record} service={service} />
                  </td>
                  <td>
                    <Details details={record.details} />
                    {record.requestId && <p className="muted small">Request {record.requestId}</p>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {loading && <Loading label="Loading the audit log…" />}
      {next && !loading && (
        <p>
          <button type="button" onClick={() => setBefore(next)}>
            Older entries
          </button>
        </p>
      )}
    </>
  );
}
