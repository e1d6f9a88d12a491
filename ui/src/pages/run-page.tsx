import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, api, runPath } from "../api/client.ts";
import { useRun } from "../api/queries.ts";
import { type Run, terminalStatuses } from "../api/types.ts";
import { ErrorView } from "../components/error-view.tsx";
import { JsonView } from "../components/json-view.tsx";
import { ErrorState, Loading } from "../components/states.tsx";
import { StatusBadge } from "../components/status-badge.tsx";
import { RunFlowSection } from "../flow-editor/run-flow-section.tsx";
import { formatDuration, formatTime, runDuration } from "../lib/format.ts";
import { throttle } from "../lib/throttle.ts";
import { useEventStream } from "../live/use-event-stream.ts";
import { JsonInputDialog } from "../run/json-input-dialog.tsx";
import { StepDetail } from "../run/step-detail.tsx";
import { StepWaterfall } from "../run/waterfall.tsx";

/** One run: header, actions, input/output/error, the step waterfall and the chosen step. */
export function RunPage() {
  const { id = "" } = useParams();
  const run = useRun(id);
  const client = useQueryClient();
  // A big run is re-read less often while it executes: each read carries every step.
  const large = (run.data?.steps.length ?? 0) > 500;
  const refresh = useMemo(
    () =>
      throttle(() => void client.invalidateQueries({ queryKey: ["run", id] }), large ? 2_000 : 250),
    [client, id, large],
  );
  const refreshLogs = useMemo(
    () => throttle(() => void client.invalidateQueries({ queryKey: ["logs", id] }), 250),
    [client, id],
  );
  useEventStream(
    run.data ? `/api/v1/stream?run=${encodeURIComponent(id)}` : null,
    (update) => {
      if (update.type === "log") refreshLogs();
      else refresh();
      if (update.type === "step") refreshLogs();
    },
    () => {
      refresh();
      refreshLogs();
    },
  );

  if (run.isError) {
    const notFound = run.error instanceof ApiError && run.error.status === 404;
    return (
      <section className="page">
        <nav className="crumbs" aria-label="Breadcrumb">
          <Link to="/runs">Runs</Link> / <span className="mono">{id}</span>
        </nav>
        <h1>Run {id}</h1>
        <ErrorState
          error={
            notFound
              ? new Error(
                  `There is no run with id "${id}". Check the id, or find the run in the list.`,
                )
              : run.error
          }
          retry={notFound ? undefined : () => void run.refetch()}
        />
      </section>
    );
  }
  if (run.isPending) {
    return (
      <section className="page">
        <Loading what={`run ${id}`} />
      </section>
    );
  }
  return <RunView run={run.data} />;
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function RunView({ run }: { run: Run }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const finished = terminalStatuses.has(run.status);
  const now = useNow(!finished);
  const [selected, setSelected] = useState<number | null>(() => {
    const failed = run.steps.find((s) => s.status === "failed" || s.error);
    return failed?.position ?? null;
  });
  const [dialog, setDialog] = useState<"replay" | { rerun: string } | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const step = run.steps.find((s) => s.position === selected) ?? null;
  const children = useMemo(() => {
    const ids = new Set(run.children ?? []);
    for (const s of run.steps) if (s.childRunId) ids.add(s.childRunId);
    return [...ids];
  }, [run]);
  const received = run.steps.filter(
    (s) => (s.kind === "event" || s.kind === "signal") && s.status === "completed",
  );

  const act = async (action: "cancel" | "retry") => {
    setBusy(true);
    setActionError(null);
    try {
      const next = await api<Run>(`${runPath(run.id)}/${action}`, { method: "POST" });
      client.setQueryData(["run", run.id], next);
      void client.invalidateQueries({ queryKey: ["runs"] });
    } catch (error) {
      setActionError(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/runs">Runs</Link> / <span className="mono">{run.id}</span>
      </nav>
      <header className="page-head">
        <div>
          <h1 className="run-title">
            <span className="mono">{run.id}</span> <StatusBadge status={run.status} />
          </h1>
          <p className="muted">
            Workflow{" "}
            <Link to={`/workflows/${encodeURIComponent(run.workflow)}`}>{run.workflow}</Link>
            {run.version !== undefined && run.version !== null ? ` · version ${run.version}` : ""}
            {run.parentId ? (
              <>
                {" "}
                · child of{" "}
                <Link className="mono" to={`/runs/${encodeURIComponent(run.parentId)}`}>
                  {run.parentId}
                </Link>
              </>
            ) : null}
            {run.continuedFrom ? (
              <>
                {" "}
                · continues{" "}
                <Link className="mono" to={`/runs/${encodeURIComponent(run.continuedFrom)}`}>
                  {run.continuedFrom}
                </Link>
              </>
            ) : null}
            {run.continuedTo ? (
              <>
                {" "}
                · continued as new in{" "}
                <Link className="mono" to={`/runs/${encodeURIComponent(run.continuedTo)}`}>
                  {run.continuedTo}
                </Link>
              </>
            ) : null}
          </p>
        </div>
        <div className="head-actions">
          {!finished ? (
            <button
              type="button"
              className="btn btn-danger"
              disabled={busy}
              onClick={() => void act("cancel")}
            >
              Cancel run
            </button>
          ) : null}
          {run.status === "failed" || run.status === "cancelled" ? (
            <button
              type="button"
              className="btn btn-primary"
              disabled={busy}
              onClick={() => void act("retry")}
            >
              Retry run
            </button>
          ) : null}
          <button type="button" className="btn" onClick={() => setDialog("replay")}>
            Replay with edited input…
          </button>
        </div>
      </header>
      {actionError ? <ErrorState error={actionError} /> : null}

      <dl className="facts">
        <div>
          <dt>Created</dt>
          <dd>{formatTime(run.createdAt)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(run.startedAt)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{formatTime(run.finishedAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(runDuration(run, now))}</dd>
        </div>
        <div>
          <dt>Steps</dt>
          <dd>{run.steps.length}</dd>
        </div>
        {run.tags && Object.keys(run.tags).length > 0 ? (
          <div>
            <dt>Tags</dt>
            <dd>
              {(Array.isArray(run.tags)
                ? run.tags
                : Object.entries(run.tags).map(([k, v]) => `${k}:${v}`)
              ).map((t) => (
                <code key={t} className="chip">
                  {t}
                </code>
              ))}
            </dd>
          </div>
        ) : null}
      </dl>

      {run.error ? (
        <section className="panel" aria-label="Run error">
          <h2>Error</h2>
          <ErrorView error={run.error} />
        </section>
      ) : null}

      <div className="grid-2">
        <section className="panel" aria-label="Run input">
          <h2>Input</h2>
          <JsonView value={run.input} label="Input" />
        </section>
        <section className="panel" aria-label="Run output">
          <h2>Output</h2>
          {run.continuedTo ? (
            <p className="muted small">
              Continued as new: the result is the last run's of the chain (follow{" "}
              <Link className="mono" to={`/runs/${encodeURIComponent(run.continuedTo)}`}>
                {run.continuedTo}
              </Link>
              ).
            </p>
          ) : finished || run.output !== undefined ? (
            <JsonView value={run.output} label="Output" />
          ) : (
            <p className="muted small">The run has not finished.</p>
          )}
        </section>
      </div>

      <section className="panel" aria-label="Steps">
        <header className="panel-head">
          <h2>Steps</h2>
          <span className="muted small">Click a step for its details and logs.</span>
        </header>
        {run.steps.length === 0 ? (
          <p className="muted">
            {run.status === "queued"
              ? "Waiting for a worker to pick the run up."
              : "No steps recorded."}
          </p>
        ) : (
          <StepWaterfall
            steps={run.steps}
            run={run}
            now={finished ? Date.parse(run.finishedAt ?? run.createdAt) : now}
            selected={selected}
            onSelect={setSelected}
          />
        )}
      </section>

      <RunFlowSection runId={run.id} workflow={run.workflow} />

      {step ? (
        <StepDetail
          key={step.position}
          runId={run.id}
          step={step}
          onRerun={() => setDialog({ rerun: step.key })}
        />
      ) : null}

      {children.length > 0 || received.length > 0 ? (
        <div className="grid-2">
          {children.length > 0 ? (
            <section className="panel" aria-label="Child runs">
              <h2>Child runs</h2>
              <ul className="plain-list">
                {children.map((child) => (
                  <li key={child}>
                    <Link className="mono" to={`/runs/${encodeURIComponent(child)}`}>
                      {child}
                    </Link>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          {received.length > 0 ? (
            <section className="panel" aria-label="Events and signals received">
              <h2>Events and signals received</h2>
              <ul className="plain-list">
                {received.map((s) => (
                  <li key={s.position}>
                    <span className="wf-kind">{s.kind}</span> <span className="mono">{s.key}</span>{" "}
                    <span className="muted small">{formatTime(s.finishedAt)}</span>
                    <JsonView value={s.output} label={`Payload of ${s.key}`} />
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
        </div>
      ) : null}

      {dialog === "replay" ? (
        <JsonInputDialog
          title="Replay with edited input"
          intro={`Starts a new run of ${run.workflow} with this input. The original run stays as it is.`}
          initial={run.input}
          confirmLabel="Start new run"
          onClose={() => setDialog(null)}
          submit={async (input) => {
            const next = await api<Run>("/api/v1/runs", {
              method: "POST",
              body: { workflow: run.workflow, input },
            });
            setDialog(null);
            void navigate(`/runs/${encodeURIComponent(next.id)}`);
          }}
        />
      ) : dialog !== null ? (
        <JsonInputDialog
          title={`Rerun from step ${dialog.rerun}`}
          intro={`Starts a new run that reuses this run's results up to step "${dialog.rerun}" and executes from there.`}
          initial={run.input}
          optional
          confirmLabel="Rerun"
          onClose={() => setDialog(null)}
          submit={async (input) => {
            const next = await api<Run>(`${runPath(run.id)}/rerun`, {
              method: "POST",
              body: { fromStep: dialog.rerun, ...(input === undefined ? {} : { input }) },
            });
            setDialog(null);
            void navigate(`/runs/${encodeURIComponent(next.id)}`);
          }}
        />
      ) : null}
    </section>
  );
}
