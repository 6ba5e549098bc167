import "./console.css";
import { match, useLocation } from "../router.js";
import { LogsPage } from "./LogsPage.js";
import { MailboxPage } from "./MailboxPage.js";
import { MapPage } from "./MapPage.js";
import { MessagesPage } from "./MessagesPage.js";
import { OverviewPage } from "./OverviewPage.js";
import { ConsoleNav } from "./parts.js";
import { SagasPage } from "./SagasPage.js";
import { TracesPage } from "./TracesPage.js";
import { WaterfallPage } from "./WaterfallPage.js";

/**
 * The operations console (`/console/*`, admins only: App.tsx puts it behind RequireAdmin): one
 * lazily loaded chunk, with its own small router over its sections.
 */
export function ConsolePage() {
  const { path } = useLocation();
  const trace = match("/console/traces/:traceId", path);
  let section = <NotFound />;
  if (trace) section = <WaterfallPage key={trace.traceId} traceId={trace.traceId ?? ""} />;
  else if (match("/console", path)) section = <OverviewPage />;
  else if (match("/console/map", path)) section = <MapPage />;
  else if (match("/console/traces", path)) section = <TracesPage />;
  else if (match("/console/sagas", path)) section = <SagasPage />;
  else if (match("/console/logs", path)) section = <LogsPage />;
  else if (match("/console/messages", path)) section = <MessagesPage />;
  else if (match("/console/mailbox", path)) section = <MailboxPage />;
  return (
    <div className="console">
      <ConsoleNav />
      {section}
    </div>
  );
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>The console has no such page.</p>
    </>
  );
}
