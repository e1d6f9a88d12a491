import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { unauthorizedEvent } from "../api/client.ts";
import { clearToken, getToken } from "../api/token-store.ts";
import { useConnectionState } from "../live/connection-store.ts";
import { LiveRuns } from "../live/live-runs.tsx";
import { pages } from "../pages.ts";

/** The app shell: sidebar, connection banner, the app-wide live stream, and the page. */
export function Layout() {
  const navigate = useNavigate();
  const location = useLocation();
  const client = useQueryClient();
  const connection = useConnectionState();

  useEffect(() => {
    const onUnauthorized = (event: Event) => {
      if (window.location.pathname === "/sign-in") return;
      client.clear();
      const next = `${window.location.pathname}${window.location.search}`;
      void navigate(`/sign-in?next=${encodeURIComponent(next)}`, {
        state: { message: (event as CustomEvent<string>).detail },
      });
    };
    window.addEventListener(unauthorizedEvent, onUnauthorized);
    return () => window.removeEventListener(unauthorizedEvent, onUnauthorized);
  }, [navigate, client]);

  const signedIn = getToken() !== null;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">
          <img src="/favicon.svg" alt="" width="26" height="26" />
          <span>Cairn</span>
        </div>
        <nav aria-label="Main">
          <ul>
            {pages
              .filter((p) => p.nav)
              .map((p) => (
                <li key={p.path}>
                  <NavLink to={`/${p.path}`} className="nav-link">
                    <span className="nav-icon" aria-hidden="true">
                      {p.nav?.icon}
                    </span>
                    {p.nav?.label}
                  </NavLink>
                </li>
              ))}
          </ul>
        </nav>
        <div className="sidebar-foot">
          <a className="nav-link" href="/api/docs">
            <span className="nav-icon" aria-hidden="true">
              {"{}"}
            </span>
            API docs
          </a>
          {signedIn ? (
            <button
              type="button"
              className="nav-link nav-button"
              onClick={() => {
                clearToken();
                client.clear();
                void navigate("/sign-in");
              }}
            >
              <span className="nav-icon" aria-hidden="true">
                ⎋
              </span>
              Sign out
            </button>
          ) : null}
        </div>
      </aside>
      <div className="content">
        {connection === "reconnecting" ? (
          <div className="banner banner-warn" role="status">
            <span className="spinner" aria-hidden="true" /> Lost the connection to the server —
            reconnecting… Live updates resume on their own.
          </div>
        ) : null}
        <main id="main" key={location.pathname.split("/")[1]}>
          <Outlet />
        </main>
      </div>
      <LiveRuns />
    </div>
  );
}
