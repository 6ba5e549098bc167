import { type ReactNode, Suspense } from "react";
import { Loading } from "../../components/ui.js";
import { Link, useLocation, useTitle } from "../../router.js";
import { useSession } from "../../session.js";

/**
 * The gate in front of every admin page (the API refuses a customer anyway: 403). Part of the
 * main bundle, small: the admin pages themselves are loaded (lazily, their own chunks) only for
 * an admin, so the catalog's JavaScript carries none of them. A customer, or a visitor, who opens
 * an admin URL is told in words why there is nothing here for them: never a blank page.
 */
export function RequireAdmin({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const { path } = useLocation();
  if (user === undefined) return <Loading label="Checking your access…" />;
  if (user === null) return <SignInAsAdmin next={path} />;
  if (user.role !== "admin") return <NotAllowed email={user.email} />;
  return <Suspense fallback={<Loading label="Loading the admin pages…" />}>{children}</Suspense>;
}

function SignInAsAdmin({ next }: { next: string }) {
  useTitle("Admin: sign in");
  return (
    <section className="narrow" aria-labelledby="admin-signin-title">
      <h1 id="admin-signin-title">Admin</h1>
      <p>
        These pages are for the shop's administrators.{" "}
        <Link to={`/login?next=${encodeURIComponent(next)}`}>Sign in with an admin account</Link> to continue.
      </p>
    </section>
  );
}

function NotAllowed({ email }: { email: string }) {
  useTitle("Not allowed");
  return (
    <section className="narrow" aria-labelledby="not-allowed-title">
      <h1 id="not-allowed-title">Not allowed</h1>
      <p>
        This page is for the shop's administrators. You are signed in as <strong>{email}</strong>, a customer
        account, which cannot manage products or read the audit log.
      </p>
      <p>
        <Link to="/">Back to the shop</Link>
      </p>
    </section>
  );
}
