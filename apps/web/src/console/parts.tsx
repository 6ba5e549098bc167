import { type ReactNode, useEffect, useRef } from "react";
import { isApiError, isUnreachable } from "../api/client.js";
import { Link, useLocation } from "../router.js";
import { SERVICES } from "./types.js";

/** The console's sections, in its own navigation. */
const SECTIONS = [
  { to: "/console", label: "Overview" },
  { to: "/console/map", label: "Map" },
  { to: "/console/traces", label: "Traces" },
  { to: "/console/logs", label: "Logs" },
  { to: "/console/sagas", label: "Sagas" },
  { to: "/console/messages", label: "Messages" },
  { to: "/console/mailbox", label: "Mailbox" },
] as const;

export function ConsoleNav() {
  const { path } = useLocation();
  const current = SECTIONS.filter((section) => path === section.to || path.startsWith(`${section.to}/`)).at(
    -1,
  );
  return (
    <nav aria-label="Console" className="console-nav">
      <ul>
        {SECTIONS.map((section) => (
          <li key={section.to}>
            <Link to={section.to} aria-current={current?.to === section.to ? "page" : undefined}>
              {section.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** An error of the API, in words (never a blank panel). */
export function Problem({ error }: { error: unknown }) {
  if (!error) return null;
  let text = "Something went wrong.";
  if (isUnreachable(error)) text = "The platform cannot be reached.";
  else if (isApiError(error)) text = `${error.status}: ${error.message}`;
  else if (error instanceof Error) text = error.message;
  return (
    <p className="notice notice-error" role="alert">
      {text}
    </p>
  );
}

/**
 * Calls `tick` every `ms` while the tab is visible (and once when it comes back): a hidden tab
 * asks the platform for nothing.
 */
export function useVisibleInterval(tick: () => void, ms: number, enabled = true): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!enabled) return;
    let timer: ReturnType<typeof setInterval> | undefined;
    const start = () => {
      if (timer === undefined) timer = setInterval(() => latest.current(), ms);
    };
    const stop = () => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    };
    const onVisibility = () => {
      if (document.hidden) stop();
      else {
        latest.current();
        start();
      }
    };
    if (!document.hidden) start();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      stop();
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [ms, enabled]);
}

/** Keys whose values the console never shows, whatever an API sends (the APIs redact them too). */
const SECRET_KEY = /token|password|secret|authorization|cookie|card|cvc|pan|iban/i;

/** A copy of `value` with every secret-looking field replaced by "[hidden]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return "…";
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [
        key,
        SECRET_KEY.test(key) && item !== null && typeof item !== "boolean"
          ? "[hidden]"
          : redact(item, depth + 1),
      ]),
    );
  }
  if (typeof value === "string" && /^(?:Bearer\s+)?eyJ[\w-]+\.[\w-]+\.[\w-]*$/.test(value)) return "[hidden]";
  return value;
}

/** Pretty JSON, redacted; focusable, so that a keyboard can scroll it when it is taller than its box. */
export function Json({ value }: { value: unknown }) {
  return (
    <pre
      className="console-json"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard (WCAG 2.1.1)
      tabIndex={0}
    >
      {JSON.stringify(redact(value), null, 2)}
    </pre>
  );
}

/**
 * A sparkline: an inline SVG polyline of `values` (null = a gap, drawn as 0), with its meaning
 * said in its accessible name.
 */
export function Sparkline({
  values,
  label,
  width = 160,
  height = 32,
}: {
  values: Array<number | null>;
  label: string;
  width?: number;
  height?: number;
}) {
  const numbers = values.map((value) => value ?? 0);
  const max = Math.max(...numbers, 0);
  const step = numbers.length > 1 ? width / (numbers.length - 1) : width;
  const points = numbers
    .map((value, index) => {
      const y = max > 0 ? height - 2 - (value / max) * (height - 4) : height - 2;
      return `${(index * step).toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
  return (
    <svg
      className="sparkline"
      role="img"
      aria-label={`${label}: ${numbers.length} points, highest ${formatNumber(max)}`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
    >
      {numbers.length > 0 && <polyline points={points} fill="none" strokeWidth="1.5" />}
    </svg>
  );
}

export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  if (value === 0) return "0";
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return value.toFixed(digits);
}

export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString(undefined, { hour12: false });
}

/** A section of a console page with its heading. */
export function Panel({
  title,
  id,
  children,
  actions,
}: {
  title: string;
  id: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <section aria-labelledby={id} className="console-panel">
      <div className="console-panel-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** Builds a query string from the set values only. */
export function query(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values))
    if (value !== undefined && value !== "") params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** A span's name, with the request's path when the name lacks it (the gateway's proxy route is `/`). */
export function spanLabel(span: { name: string; kind: string; attributes: Record<string, unknown> }): string {
  const path = span.attributes["url.path"];
  if (span.kind !== "server" || typeof path !== "string" || span.name.endsWith(` ${path}`)) return span.name;
  const method = span.attributes["http.request.method"];
  return typeof method === "string" ? `${method} ${path}` : `${span.name} ${path}`;
}

/** The "Service" filter of the console's lists: any, or one of the platform's runnables. */
export function ServiceFilter({
  id,
  value,
  onChange,
}: {
  id: string;
  value: string;
  onChange: (service: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>Service</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">Any</option>
        {SERVICES.map((service) => (
          <option key={service}>{service}</option>
        ))}
      </select>
    </div>
  );
}
