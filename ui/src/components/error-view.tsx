import type { WireError } from "../api/types.ts";

/** An error with its name, code, message and (folded) stack. */
export function ErrorView({ error }: { error: WireError }) {
  return (
    <section className="error-box" aria-label="Error">
      <div className="error-title">
        <strong>{error.name}</strong>
        {error.code ? <code className="error-code">{error.code}</code> : null}
      </div>
      <p className="error-message">{error.message}</p>
      {error.stack ? (
        <details>
          <summary>Stack trace</summary>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable regions must be reachable by keyboard */}
          <pre className="stack" tabIndex={0}>
            {error.stack}
          </pre>
        </details>
      ) : null}
    </section>
  );
}
