import { lazy, type ReactNode, useEffect, useRef } from "react";
import { cartCount, useCart } from "./cart.js";
import { Notice } from "./components/ui.js";
import { LoginPage, SignUpPage } from "./pages/AccountPages.js";
import { RequireAdmin } from "./pages/admin/RequireAdmin.js";
import { CartPage } from "./pages/CartPage.js";
import { CatalogPage } from "./pages/CatalogPage.js";
import { CheckoutPage } from "./pages/CheckoutPage.js";
import { NotFoundPage } from "./pages/NotFoundPage.js";
import { NotificationsPage } from "./pages/NotificationsPage.js";
import { OrderPage } from "./pages/OrderPage.js";
import { OrdersPage } from "./pages/OrdersPage.js";
import { ProductPage } from "./pages/ProductPage.js";
import { Link, match, navigate, useLocation } from "./router.js";
import { useSession } from "./session.js";

/** The admin pages: chunks of their own, loaded only when an admin opens one (RequireAdmin). */
const AdminProductsPage = lazy(() =>
  import("./pages/admin/AdminProductsPage.js").then((module) => ({ default: module.AdminProductsPage })),
);
const ProductEditorPage = lazy(() =>
  import("./pages/admin/ProductEditorPage.js").then((module) => ({ default: module.ProductEditorPage })),
);
const AuditLogPage = lazy(() =>
  import("./pages/admin/AuditLogPage.js").then((module) => ({ default: module.AuditLogPage })),
);
/** The operations console (`/console/*`): a chunk of its own, loaded only for an admin. */
const ConsolePage = lazy(() =>
  import("./console/ConsolePage.js").then((module) => ({ default: module.ConsolePage })),
);
const renderConsole = () => (
  <RequireAdmin>
    <ConsolePage />
  </RequireAdmin>
);

/** The client routes, in one place: the first pattern that matches renders. */
const ROUTES: Array<{ pattern: string; render: (params: Record<string, string>) => ReactNode }> = [
  { pattern: "/", render: () => <CatalogPage /> },
  { pattern: "/products/:id", render: ({ id }) => <ProductPage id={id ?? ""} /> },
  { pattern: "/cart", render: () => <CartPage /> },
  { pattern: "/checkout", render: () => <CheckoutPage /> },
  { pattern: "/orders", render: () => <OrdersPage /> },
  { pattern: "/orders/:id", render: ({ id }) => <OrderPage id={id ?? ""} /> },
  { pattern: "/notifications", render: () => <NotificationsPage /> },
  { pattern: "/login", render: () => <LoginPage /> },
  { pattern: "/signup", render: () => <SignUpPage /> },
  {
    pattern: "/admin",
    render: () => (
      <RequireAdmin>
        <AdminProductsPage />
      </RequireAdmin>
    ),
  },
  {
    pattern: "/admin/products/new",
    render: () => (
      <RequireAdmin>
        <ProductEditorPage key="new" />
      </RequireAdmin>
    ),
  },
  {
    pattern: "/admin/products/:id",
    render: ({ id }) => (
      <RequireAdmin>
        <ProductEditorPage key={id} id={id ?? ""} />
      </RequireAdmin>
    ),
  },
  {
    pattern: "/admin/audit",
    render: () => (
      <RequireAdmin>
        <AuditLogPage />
      </RequireAdmin>
    ),
  },
  { pattern: "/console", render: renderConsole },
  { pattern: "/console/:section", render: renderConsole },
  { pattern: "/console/traces/:traceId", render: renderConsole },
];

export function App() {
  const { path } = useLocation();
  const { user, expired, signOut } = useSession();
  const cart = useCart();
  const main = useRef<HTMLElement>(null);
  let page: ReactNode = <NotFoundPage />;
  for (const route of ROUTES) {
    const params = match(route.pattern, path);
    if (params) {
      page = route.render(params);
      break;
    }
  }
  // After a navigation, focus goes to the page's content (screen readers announce it).
  const shown = useRef(path);
  useEffect(() => {
    if (shown.current === path) return;
    shown.current = path;
    main.current?.focus();
  }, [path]);

  const count = cartCount(cart);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          <span aria-hidden="true">✿</span> Blossom
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link to="/">Shop</Link>
            </li>
            <li>
              <Link to="/cart">
                Cart<span className="badge">{count > 0 ? ` (${count})` : ""}</span>
              </Link>
            </li>
            {user ? (
              <>
                <li>
                  <Link to="/orders">Orders</Link>
                </li>
                <li>
                  <Link to="/notifications">Inbox</Link>
                </li>
                {user.role === "admin" && (
                  <li>
                    <Link to="/admin">Admin</Link>
                  </li>
                )}
                {user.role === "admin" && (
                  <li>
                    <Link to="/console">Console</Link>
                  </li>
                )}
                <li>
                  <button
                    type="button"
                    className="link-button"
                    onClick={async () => {
                      await signOut();
                      navigate("/");
                    }}
                  >
                    Sign out
                  </button>
                </li>
              </>
            ) : user === null ? (
              <>
                <li>
                  <Link to="/login">Sign in</Link>
                </li>
                <li>
                  <Link to="/signup">Create account</Link>
                </li>
              </>
            ) : null}
          </ul>
        </nav>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {expired && !user && path !== "/login" && (
          <Notice>
            Your session has expired.{" "}
            <Link to={`/login?next=${encodeURIComponent(path)}`}>Sign in again</Link> to continue.
          </Notice>
        )}
        {page}
      </main>
      <footer className="site-footer">
        <p>
          Blossom demo shop · <a href="/docs">API docs</a> · Test cards: 4242 4242 4242 4242 succeeds, 4000
          0000 0000 0002 is declined
        </p>
      </footer>
    </>
  );
}
