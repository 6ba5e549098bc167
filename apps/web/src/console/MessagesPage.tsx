import { useState } from "react";
import { api } from "../api/client.js";
import { Link, useTitle } from "../router.js";
import { useApi } from "../use-api.js";
import { formatTime, Json, Panel, Problem } from "./parts.js";
import {
  CONSUMERS,
  type DeadLetter,
  type DeadLetterAnswer,
  type DeadLetters,
  type DeadLetterView,
} from "./types.js";

type Action = "replay" | "discard";

function DeadLetterRow({
  service,
  letter,
  onDone,
}: {
  service: string;
  letter: DeadLetter;
  onDone(answer: DeadLetterAnswer): void;
}) {
  const [detail, setDetail] = useState<DeadLetterView | undefined>(undefined);
  const [asking, setAsking] = useState<Action | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const base = `/api/${service}/dead-letters/${encodeURIComponent(letter.id)}`;
  const inspect = async () => {
    try {
      setDetail(detail ? undefined : await api<DeadLetterView>(base));
      setError(undefined);
    } catch (caught) {
      setError(caught);
    }
  };
  const act = async (action: Action) => {
    setAsking(undefined);
    try {
      const answer = await api<DeadLetterAnswer>(`${base}/${action}`, { method: "POST", body: {} });
      setError(undefined);
      onDone(answer);
    } catch (caught) {
      setError(caught);
    }
  };
  const traceId = letter.traceparent?.split("-")[1];
  return (
    <li className="dead-letter">
      <h3>
        {letter.eventType} <span className="muted">about {letter.subject}</span>
      </h3>
      <dl className="levels">
        <dt>Error</dt>
        <dd>{letter.error}</dd>
        <dt>Attempts</dt>
        <dd>{letter.attempts}</dd>
        <dt>Dead-lettered</dt>
        <dd>{formatTime(letter.at)}</dd>
        <dt>Ids</dt>
        <dd className="mono">
          {letter.id} (event {letter.eventId})
          {traceId && (
            <>
              {" · "}
              <Link to={`/console/traces/${traceId}`}>publisher's trace</Link>
            </>
          )}
        </dd>
      </dl>
      <div className="actions">
        <button type="button" className="button" aria-expanded={!!detail} onClick={() => void inspect()}>
          {detail ? "Hide event" : "Inspect"}
        </button>
        <button type="button" className="button" onClick={() => setAsking("replay")}>
          Replay
        </button>
        <button type="button" className="button danger" onClick={() => setAsking("discard")}>
          Discard
        </button>
      </div>
      {asking && (
        <fieldset className="console-confirm">
          <legend>{asking === "replay" ? "Replay this event?" : "Discard this event?"}</legend>
          <p>
            {asking === "replay"
              ? `Deliver ${letter.eventType} again to ${service}'s consumer? The inbox still lets it take effect at most once.`
              : `Drop ${letter.eventType} without delivering it? This cannot be undone.`}
          </p>
          <button type="button" className="button" onClick={() => void act(asking)}>
            {asking === "replay" ? "Yes, replay" : "Yes, discard"}
          </button>{" "}
          <button type="button" className="button" onClick={() => setAsking(undefined)}>
            Cancel
          </button>
        </fieldset>
      )}
      <Problem error={error} />
      {detail && <Json value={detail.event} />}
    </li>
  );
}

function ServiceDeadLetters({
  service,
  onAnswer,
}: {
  service: string;
  onAnswer(answer: DeadLetterAnswer): void;
}) {
  const list = useApi<DeadLetters>(`/api/${service}/dead-letters?limit=100`);
  const items = list.data?.items ?? [];
  return (
    <Panel
      title={service}
      id={`dead-letters-${service}`}
      actions={
        <button type="button" className="button" onClick={list.reload} aria-label={`Refresh ${service}`}>
          Refresh
        </button>
      }
    >
      <Problem error={list.error} />
      {list.loading ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p className="muted">No dead letters.</p>
      ) : (
        <ul className="console-list">
          {items.map((letter) => (
            <DeadLetterRow
              key={letter.id}
              service={service}
              letter={letter}
              onDone={(answer) => {
                onAnswer(answer);
                list.reload();
              }}
            />
          ))}
        </ul>
      )}
    </Panel>
  );
}

export function MessagesPage() {
  useTitle("Console: messages");
  // The answer of the last replay or discard, as the API gave it.
  const [answer, setAnswer] = useState<{ service: string; answer: DeadLetterAnswer } | undefined>(undefined);
  return (
    <>
      <h1>Messages</h1>
      <p>
        Dead letters: the events a service's consumer gave up on, per service. Replay delivers one again to
        that consumer; discard drops it. Both are recorded in the service's audit log.
      </p>
      <div role="status" aria-live="polite">
        {answer && (
          <div className="notice notice-success">
            <p>
              {answer.service}: dead letter {answer.answer.id} {answer.answer.action}
              {answer.answer.repeated ? " (already done before: nothing was done again)" : ""}.
            </p>
            <Json value={answer.answer} />
          </div>
        )}
      </div>
      {CONSUMERS.map((service) => (
        <ServiceDeadLetters
          key={service}
          service={service}
          onAnswer={(outcome) => setAnswer({ service, answer: outcome })}
        />
      ))}
    </>
  );
}
