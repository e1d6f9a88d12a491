import { type FormEvent, useState } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router";
import { ApiError, api } from "../api/client.ts";
import { setToken } from "../api/token-store.ts";

/** Asks for an API token, checks it against the server, keeps it for this tab. */
export function SignInPage() {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const [token, setTokenText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const reason = (location.state as { message?: string } | null)?.message;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const secret = token.trim();
    if (secret === "") {
      setError("Paste an API token first.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api("/api/v1/workflows", { token: secret });
      setToken(secret);
      const next = params.get("next");
      void navigate(next?.startsWith("/") && !next.startsWith("//") ? next : "/runs", {
        replace: true,
      });
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 401
          ? `That token was refused: ${e.message}`
          : e instanceof Error
            ? e.message
            : String(e),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <form className="signin-card" onSubmit={submit} noValidate>
        <div className="brand brand-large">
          <img src="/favicon.svg" alt="" width="34" height="34" />
          <span>Cairn</span>
        </div>
        <h1>Sign in</h1>
        <p className="muted">
          This server needs an API token. Create one with{" "}
          <code>cairn tokens create --name me --role operator</code>.
        </p>
        {reason ? (
          <p className="alert alert-warn" role="status">
            {reason}
          </p>
        ) : null}
        <label className="field">
          <span className="field-label">API token</span>
          <input
            type="password"
            name="token"
            autoComplete="off"
            spellCheck={false}
            placeholder="cairn_…"
            value={token}
            onChange={(e) => setTokenText(e.target.value)}
            aria-invalid={error !== null}
            aria-describedby={error ? "signin-error" : undefined}
          />
        </label>
        {error ? (
          <p id="signin-error" className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        <p className="small muted">
          The token stays in this tab's session storage and is sent only to this server.
        </p>
      </form>
    </main>
  );
}
