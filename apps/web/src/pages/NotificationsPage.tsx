import { useEffect, useState } from "react";
import { api } from "../api/client.js";
import type { Notifications, Preferences } from "../api/types.js";
import { ErrorMessage, Loading, Notice, SignInPrompt } from "../components/ui.js";
import { formatDate } from "../format.js";
import { useTitle } from "../router.js";
import { useSession } from "../session.js";
import { useApi } from "../use-api.js";

const CHANNELS: Array<{ key: keyof Preferences; label: string }> = [
  { key: "email", label: "Email" },
  { key: "sms", label: "Text message (SMS)" },
  { key: "push", label: "Push notifications" },
];

export function NotificationsPage() {
  useTitle("Inbox");
  const { user } = useSession();
  const inbox = useApi<Notifications>(user ? "/api/notifications?limit=50" : undefined);
  const stored = useApi<Preferences>(user ? "/api/notifications/preferences" : undefined);
  const [preferences, setPreferences] = useState<Preferences>();
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (stored.data) setPreferences(stored.data);
  }, [stored.data]);

  if (user === null)
    return (
      <SignInPrompt title="Inbox" next="/notifications">
        to see your messages.
      </SignInPrompt>
    );
  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">Inbox</h1>
      <button type="button" onClick={inbox.reload}>
        Check for new messages
      </button>
      <ErrorMessage error={inbox.error} />
      {inbox.loading && !inbox.data && <Loading label="Loading your messages…" />}
      {inbox.data?.items.length === 0 && <p>No messages yet.</p>}
      {inbox.data && inbox.data.items.length > 0 && (
        <ul className="inbox" aria-label="Messages">
          {inbox.data.items.map((message) => (
            <li key={message.id}>
              <strong>{message.subject}</strong>
              <span className="muted">
                {" "}
                · {message.channel} · {formatDate(message.createdAt)} · {message.status}
              </span>
            </li>
          ))}
        </ul>
      )}
      <h2>How we reach you</h2>
      <ErrorMessage error={stored.error ?? error} />
      {preferences && (
        <form
          onSubmit={async (event) => {
            event.preventDefault();
            setSaved(false);
            setError(undefined);
            try {
              setPreferences(
                await api<Preferences>("/api/notifications/preferences", {
                  method: "PUT",
                  body: preferences,
                }),
              );
              setSaved(true);
            } catch (failure) {
              setError(failure);
            }
          }}
        >
          <fieldset>
            <legend>Channels</legend>
            {CHANNELS.map(({ key, label }) => (
              <div className="checkbox" key={key}>
                <input
                  type="checkbox"
                  id={`channel-${key}`}
                  checked={preferences[key]}
                  onChange={(event) => setPreferences({ ...preferences, [key]: event.target.checked })}
                />
                <label htmlFor={`channel-${key}`}>{label}</label>
              </div>
            ))}
          </fieldset>
          <button type="submit">Save preferences</button>
          {saved && <Notice tone="success">Preferences saved.</Notice>}
        </form>
      )}
    </section>
  );
}
