import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api/client.js";
import { navigate, useLocation, useTitle } from "../router.js";
import { useApi } from "../use-api.js";
import { formatTime, Panel, Problem, query } from "./parts.js";
import type { Mailbox, MailboxMessage } from "./types.js";

const CHANNELS = ["email", "sms", "push"] as const;
const PAGE = 20;

/**
 * What the platform sent in development, with the messages' bodies: emails in the local mailbox
 * (when no SMTP server is configured), sms and push in their development sinks, newest first,
 * through `GET /api/notifications/mailbox` (admins). Bodies are shown as text, never as HTML.
 */
export function MailboxPage() {
  useTitle("Console: mailbox");
  const { query: params } = useLocation();
  const channel = params.get("channel") ?? "";
  const recipient = params.get("recipient") ?? "";
  const [draft, setDraft] = useState({ channel, recipient });
  const first = useApi<Mailbox>(`/api/notifications/mailbox${query({ channel, recipient, limit: PAGE })}`);
  const [older, setOlder] = useState<{ items: MailboxMessage[]; cursor: string | null; error: unknown }>({
    items: [],
    cursor: null,
    error: undefined,
  });
  // A new first page (new filters, or a refresh) starts the list again.
  useEffect(() => {
    setOlder({ items: [], cursor: first.data?.nextCursor ?? null, error: undefined });
  }, [first.data]);

  const show = (next: { channel: string; recipient: string }) => {
    setDraft(next);
    navigate(`/console/mailbox${query(next)}`, { replace: true });
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    show({ channel: draft.channel, recipient: draft.recipient.trim() });
  };
  const loadOlder = async () => {
    if (!older.cursor) return;
    try {
      const page = await api<Mailbox>(
        `/api/notifications/mailbox${query({ channel, recipient, limit: PAGE, cursor: older.cursor })}`,
      );
      setOlder((previous) => ({
        items: [...previous.items, ...page.items],
        cursor: page.nextCursor,
        error: undefined,
      }));
    } catch (error) {
      setOlder((previous) => ({ ...previous, error }));
    }
  };
  const messages = [...(first.data?.items ?? []), ...older.items];

  return (
    <>
      <h1>Mailbox</h1>
      <p>
        The emails, SMS and push messages sent in development, newest first: no real provider, email lands in
        the platform's mailbox (when no SMTP server is configured), SMS and push in their development sinks.
      </p>
      <form className="filters console-filters" onSubmit={submit} aria-label="Filter the mailbox">
        <div className="field">
          <label htmlFor="mailbox-channel">Channel</label>
          <select
            id="mailbox-channel"
            value={draft.channel}
            onChange={(event) => setDraft({ ...draft, channel: event.target.value })}
          >
            <option value="">All</option>
            {CHANNELS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="mailbox-recipient">Recipient (email address or user id)</label>
          <input
            id="mailbox-recipient"
            value={draft.recipient}
            onChange={(event) => setDraft({ ...draft, recipient: event.target.value })}
          />
        </div>
        <button type="submit" className="button">
          Filter
        </button>
        <button type="button" className="button" onClick={first.reload}>
          Refresh
        </button>
      </form>
      <Problem error={first.error} />
      <Panel title={recipient ? `Sent to ${recipient}` : "Sent"} id="sent-title">
        {first.loading && !first.data ? (
          <p role="status">Loading…</p>
        ) : messages.length === 0 ? (
          <p className="muted">Nothing sent.</p>
        ) : (
          <ul className="console-list" aria-label="Messages">
            {messages.map((message) => (
              <li key={message.id} className="mail">
                <article aria-labelledby={`mail-${message.id}`}>
                  <h3 id={`mail-${message.id}`}>{message.subject}</h3>
                  <p className="mail-meta">
                    <span className="mail-channel">{message.channel}</span> to{" "}
                    <button
                      type="button"
                      className="link-button mono"
                      title="Show only this recipient's messages"
                      onClick={() => show({ channel, recipient: message.recipient })}
                    >
                      {message.recipient}
                    </button>{" "}
                    · <span className="mono">{message.template}</span> ·{" "}
                    <time dateTime={message.deliveredAt}>{formatTime(message.deliveredAt)}</time>
                  </p>
                  <pre className="mail-body">{message.body}</pre>
                </article>
              </li>
            ))}
          </ul>
        )}
        <Problem error={older.error} />
        {older.cursor && (
          <button type="button" className="button" onClick={() => void loadOlder()}>
            Older messages
          </button>
        )}
      </Panel>
    </>
  );
}
