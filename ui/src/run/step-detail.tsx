import { Link } from "react-router";
import { isMissingRoute } from "../api/client.ts";
import { useStepLogs } from "../api/queries.ts";
import type { Step } from "../api/types.ts";
import { ErrorView } from "../components/error-view.tsx";
import { JsonView } from "../components/json-view.tsx";
import { StatusBadge } from "../components/status-badge.tsx";
import { formatDuration, formatTime } from "../lib/format.ts";
import { waitLabel } from "./waterfall-model.ts";

/** Everything about one step: attempts, input, output, error and its logs (live). */
export function StepDetail({
  runId,
  step,
  onRerun,
}: {
  runId: string;
  step: Step;
  onRerun?: () => void;
}) {
  const logs = useStepLogs(runId, step.key);
  const isWait = ["sleep", "event", "signal", "invoke", "child", "any"].includes(step.kind);
  return (
    <section className="panel step-detail" aria-label={`Step ${step.key}`}>
      <header className="panel-head">
        <div>
          <h2 className="step-title">
            <span className="mono">{step.key}</span>{" "}
            <StatusBadge status={step.state ?? step.status} />
          </h2>
          <p className="muted small">
            #{step.position} · {step.kind}
            {isWait ? ` · ${waitLabel(step)}` : ""} · started {formatTime(step.startedAt)} ·{" "}
            {formatDuration(step.durationMs)}
          </p>
        </div>
        {onRerun && step.kind === "step" ? (
          <button type="button" className="btn btn-small" onClick={onRerun}>
            Rerun from this step…
          </button>
        ) : null}
      </header>
      {step.childRunId ? (
        <p>
          Child run:{" "}
          <Link className="mono" to={`/runs/${encodeURIComponent(step.childRunId)}`}>
            {step.childRunId}
          </Link>
        </p>
      ) : null}
      <h3>Attempts</h3>
      {step.attempts && step.attempts.length > 0 ? (
        <table className="table table-compact" aria-label="Attempts">
          <thead>
            <tr>
              <th>#</th>
              <th>Started</th>
              <th className="num">Duration</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {(step.attempts[0]?.attempt ?? 1) > 1 ? (
              <tr>
                <td>
                  {step.attempts[0]?.attempt === 2
                    ? "1"
                    : `1–${(step.attempts[0]?.attempt ?? 2) - 1}`}
                </td>
                <td colSpan={2} className="muted">
                  timings not kept
                </td>
                <td className="text-error">failed (see the logs below)</td>
              </tr>
            ) : null}
            {step.attempts.map((a) => (
              <tr key={a.attempt}>
                <td>{a.attempt}</td>
                <td>{formatTime(a.startedAt)}</td>
                <td className="num">
                  {a.startedAt && a.endedAt
                    ? formatDuration(
                        new Date(a.endedAt).getTime() - new Date(a.startedAt).getTime(),
                      )
                    : "running"}
                </td>
                <td className={a.error ? "text-error" : undefined}>
                  {a.error ? `${a.error.name}: ${a.error.message}` : a.endedAt ? "ok" : "…"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="small">
          {step.attempt <= 1
            ? "One attempt."
            : `${step.attempt} attempts; the last is shown, earlier ones failed.`}
        </p>
      )}
      {"input" in step ? (
        <>
          <h3>Input</h3>
          <JsonView value={step.input} label="Step input" />
        </>
      ) : null}
      <h3>Output</h3>
      <JsonView value={step.output} label="Step output" />
      {step.error ? (
        <>
          <h3>Error</h3>
          <ErrorView error={step.error} />
        </>
      ) : null}
      <h3>Logs</h3>
      {logs.isError ? (
        <p className="muted small">
          {isMissingRoute(logs.error)
            ? "This server does not keep step logs."
            : `Logs could not be loaded: ${logs.error.message}`}
        </p>
      ) : logs.data && logs.data.logs.length === 0 ? (
        <p className="muted small">No logs for this step.</p>
      ) : logs.data ? (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable regions must be reachable by keyboard
        <ol className="logs" aria-label="Step logs" tabIndex={0}>
          {logs.data.logs.map((entry) => (
            <li key={entry.seq} className={`log log-${entry.level}`}>
              <time dateTime={entry.at}>{new Date(entry.at).toLocaleTimeString()}</time>
              <span className="log-level">{entry.level}</span>
              {entry.attempt !== null ? (
                <span className="log-attempt">#{entry.attempt}</span>
              ) : null}
              <span className="log-message">
                {entry.message}
                {entry.fields && Object.keys(entry.fields).length > 0 ? (
                  <span className="log-fields"> {JSON.stringify(entry.fields)}</span>
                ) : null}
                {entry.truncated ? <em className="muted"> (truncated)</em> : null}
              </span>
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted small">Loading logs…</p>
      )}
    </section>
  );
}
