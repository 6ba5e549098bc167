import { type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes, useId } from "react";
import { describeError } from "../errors.js";
import { Link } from "../router.js";

/** An error in words, announced to screen readers. Nothing when there is none. */
export function ErrorMessage({ error, children }: { error?: unknown; children?: ReactNode }) {
  if (!error && !children) return null;
  return (
    <div className="notice notice-error" role="alert">
      {children ?? describeError(error)}
    </div>
  );
}

export function Notice({ children, tone = "info" }: { children: ReactNode; tone?: "info" | "success" }) {
  return (
    <div className={`notice notice-${tone}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      {label}
    </p>
  );
}

/** The attributes that tie a control to its label, hint and error (see `LabelledControl`). */
interface ControlAttributes {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

/**
 * A label, a control, its hint and its error (from the API's problem), tied together by id and
 * aria-describedby: the one frame of `Field` and `TextAreaField`.
 */
function LabelledControl({
  label,
  error,
  hint,
  control,
}: {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  control(attributes: ControlAttributes): ReactNode;
}) {
  const id = useId();
  const described = [error ? `${id}-error` : "", hint ? `${id}-hint` : ""].filter(Boolean).join(" ");
  return (
    <div className={`field${error ? " field-invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {control({ id, "aria-invalid": error ? true : undefined, "aria-describedby": described || undefined })}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A labelled input with its error (from the API's problem) tied to it by aria-describedby. */
export function Field({
  label,
  error,
  hint,
  ...input
}: { label: string; error?: string | undefined; hint?: string } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <LabelledControl
      label={label}
      error={error}
      hint={hint}
      control={(attributes) => <input {...attributes} {...input} />}
    />
  );
}

/** A labelled multi-line input, with its error and hint tied to it as `Field` does. */
export function TextAreaField({
  label,
  error,
  hint,
  ...input
}: {
  label: string;
  error?: string | undefined;
  hint?: string;
} & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <LabelledControl
      label={label}
      error={error}
      hint={hint}
      control={(attributes) => <textarea {...attributes} {...input} />}
    />
  );
}

/**
 * A page that needs a signed-in shopper, shown to a signed-out one: its title and a link to sign in
 * that comes back to `next`, followed by `children` (what signing in is for).
 */
export function SignInPrompt({
  title,
  next,
  children,
}: {
  title: string;
  next: string;
  children: ReactNode;
}) {
  return (
    <section>
      <h1>{title}</h1>
      <p>
        Please <Link to={`/login?next=${next}`}>sign in</Link> {children}
      </p>
    </section>
  );
}

/** A table's caption (for screen readers only) and its column headers, in order. */
export function ColumnHeads({ caption, columns }: { caption: ReactNode; columns: readonly string[] }) {
  return (
    <>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((column) => (
            <th scope="col" key={column}>
              {column}
            </th>
          ))}
        </tr>
      </thead>
    </>
  );
}
