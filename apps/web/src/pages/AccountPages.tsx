import { api } from "../api/client.js";
import { ErrorMessage, Field } from "../components/ui.js";
import { fieldErrors } from "../errors.js";
import { Link, navigate, useLocation, useTitle } from "../router.js";
import { useSession } from "../session.js";
import { useForm, useSubmit } from "../use-form.js";

/** Where to go after signing in: the `next` of the query, if it is a path of this shop. */
function nextPath(query: URLSearchParams): string {
  const next = query.get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function LoginPage() {
  useTitle("Sign in");
  const { query } = useLocation();
  const { signIn } = useSession();
  const { values: form, field } = useForm({ email: "", password: "" });
  const { submit, error, busy } = useSubmit(async () => {
    await signIn(form.email, form.password);
    navigate(nextPath(query), { replace: true });
  });
  const fields = fieldErrors(error);
  return (
    <section className="narrow" aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>
      <ErrorMessage error={Object.keys(fields).length ? undefined : error} />
      <form onSubmit={submit} noValidate>
        <Field label="Email" type="email" autoComplete="email" {...field("email", fields.email)} required />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          {...field("password", fields.password)}
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here?{" "}
        <Link to={`/signup${query.get("next") ? `?next=${encodeURIComponent(nextPath(query))}` : ""}`}>
          Create an account
        </Link>
      </p>
    </section>
  );
}

export function SignUpPage() {
  useTitle("Create an account");
  const { query } = useLocation();
  const { signIn } = useSession();
  const { values: form, field } = useForm({ name: "", email: "", password: "" });
  const { submit, error, busy } = useSubmit(async () => {
    await api("/api/users", { method: "POST", body: form, auth: false });
    await signIn(form.email, form.password);
    navigate(nextPath(query), { replace: true });
  });
  const fields = fieldErrors(error);
  return (
    <section className="narrow" aria-labelledby="signup-title">
      <h1 id="signup-title">Create an account</h1>
      <ErrorMessage error={Object.keys(fields).length ? undefined : error} />
      <form onSubmit={submit} noValidate>
        <Field label="Name" autoComplete="name" {...field("name", fields.name)} required />
        <Field label="Email" type="email" autoComplete="email" {...field("email", fields.email)} required />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          {...field("password", fields.password)}
          hint="At least 8 characters."
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? "Creating your account…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </section>
  );
}
