import { Link, useLocation, useTitle } from "../router.js";

export function NotFoundPage() {
  useTitle("Page not found");
  const { path } = useLocation();
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{path}</code>. It may have moved, or the link may be mistyped.
      </p>
      <p>
        <Link to="/">Go to the shop</Link>
      </p>
    </section>
  );
}
