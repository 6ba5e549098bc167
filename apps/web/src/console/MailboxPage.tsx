import { type FormEvent, useState } from "react";
import type { Notifications } from "../api/types.js";
import { navigate, useLocation, useTitle } from "../router.js";
import { useApi } from "../use-api.js";
import { formatTime, Panel, Problem, query } from "./parts.js";
import type { Logs } from "./types.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The users the notifications service logged about lately (its dev sinks log a user id per message). */
function recentRecipients(logs: Logs | undefined): string[] {
  const ids = new Set<string>();
  for (const line of [...(logs?.items ?? [])].reverse())
    for (const [key, value] of Object.entries(line.fields))
      if (/^user_?id$/i.test(key) && typeof value === "string" && UUID.test(value)) ids.add(value);
  return [...ids].slice(0, 20);
}

/**
 * What the platform sent in development (email to the local mailbox, sms and push to their dev
 * sinks), per recipient, through `GET /api/notifications?userId=` (an admin may name anyone).
 */
export function MailboxPage() {
  useTitle("Console: mailbox");
  const { query: params } = useLocation();
  const userId = params.get("userId") ?? "";
  const [draft, setDraft] = useState(userId);
  const sent = useApi<Notifications>(`/api/notifications${query({ userId, limit: 50 })}`);
  const logs = useApi<Logs>("/api/ops/logs?service=notifications&limit=500");
  const recipients = recentRecipients(logs.data);
  const show = (id: string) => {
    setDraft(id);
    navigate(`/console/mailbox${query({ userId: id })}`, { replace: true });
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    show(draft.trim());
  };

  return (
    <>
      <h1>Mailbox</h1>
      <p>
        The emails, SMS and push messages sent in development (no real provider: email lands in the platform's
        mailbox table, SMS and push in their development sinks), one recipient at a time.
      </p>
      <form className="filters console-filters" onSubmit={submit} aria-label="Choose a recipient">
        <div className="field">
          <label htmlFor="mailbox-user">User id (empty: yourself)</label>
          <input id="mailbox-user" value={draft} onChange={(event) => setDraft(event.target.value)} />
        </div>
        <button type="submit" className="button">
          Show
        </button>
        <button type="button" className="button" onClick={sent.reload}>
          Refresh
        </button>
      </form>
      {recipients.length > 0 && (
        <Panel title="Recent recipients" id="recipients-title">
          <ul className="console-chips">
            {recipients.map((id) => (
              <li key={id}>
                <button
                  type="button"
                  className="link-button mono"
                  aria-pressed={id === userId}
                  onClick={() => show(id)}
                >
                  {id}
                </button>
              </li>
            ))}
          </ul>
        </Panel>
      )}
      <Problem error={sent.error} />
      <Panel title={userId ? `Sent to ${userId}` : "Sent to you"} id="sent-title">
        {sent.loading ? (
          <p role="status">Loading…</p>
        ) : (sent.data?.items.length ?? 0) === 0 ? (
          <p className="muted">Nothing sent.</p>
        ) : (
          <div className="table-scroll">
            <table className="console-table">
              <thead>
                <tr>
                  <th scope="col">Sent</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Template</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {sent.data?.items.map((item) => (
                  <tr key={item.id}>
                    <td>{formatTime(item.createdAt)}</td>
                    <td>{item.channel}</td>
                    <td>{item.subject}</td>
                    <td className="mono">{item.template}</td>
                    <td>{item.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      <p className="hint">
        The bodies of the messages are not served by any API yet (the mailbox and device tables are read in
        development through the database).
      </p>
    </>
  );
}
