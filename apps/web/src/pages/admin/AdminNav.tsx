import { Link, useLocation } from "../../router.js";

const SECTIONS = [
  { to: "/admin", label: "Products" },
  { to: "/admin/products/new", label: "New product" },
  { to: "/admin/audit", label: "Audit log" },
] as const;

/** The admin section's own navigation; the current page is marked for screen readers. */
export function AdminNav() {
  const { path } = useLocation();
  return (
    <nav aria-label="Admin" className="admin-nav">
      <ul>
        {SECTIONS.map((section) => (
          <li key={section.to}>
            <Link to={section.to} aria-current={path === section.to ? "page" : undefined}>
              {section.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
