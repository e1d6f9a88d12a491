import { useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { api, isMissingRoute, runPath } from "../api/client.ts";
import { bulkAction, useRuns, useWorkflows } from "../api/queries.ts";
import { type RunFilter, type RunSummary, runStatuses, terminalStatuses } from "../api/types.ts";
import { EmptyState, ErrorState, Loading } from "../components/states.tsx";
import { StatusBadge } from "../components/status-badge.tsx";
import { TimeText } from "../components/time-text.tsx";
import { formatDuration, fromLocalInput, runDuration, toLocalInput } from "../lib/format.ts";
import { BulkDialog } from "../runs/bulk-dialog.tsx";

const filterKeys = ["workflow", "status", "from", "to", "tag", "where", "idPrefix"] as const;

const bulkBySearch =
  "Bulk actions by filter cannot search inputs and outputs: select the runs on the page instead.";

function filterOf(params: URLSearchParams): RunFilter {
  const filter: RunFilter = {};
  for (const key of filterKeys) {
    const value = params.get(key);
    if (value) filter[key] = value;
  }
  return filter;
}

/** Runs, newest first: filters live in the URL, so a filtered view can be shared. */
export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const filter = filterOf(params);
  const cursor = params.get("cursor") ?? undefined;
  const previous = ((location.state as { previous?: string[] } | null)?.previous ?? []).slice();
  const runs = useRuns(filter, cursor);
  const workflows = useWorkflows();
  const client = useQueryClient();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulk, setBulk] = useState<"cancel" | "retry" | null>(null);
  const formId = useId();
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);

  const setFilter = (key: (typeof filterKeys)[number], value: string | undefined) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    next.delete("cursor");
    setSelected(new Set());
    setParams(next, { replace: true });
  };

  const page = runs.data?.runs ?? [];
  const allSelected = page.length > 0 && page.every((r) => selected.has(r.id));
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  const actOnSelected = async (action: "cancel" | "retry") => {
    const ids = [...selected];
    setMessage(null);
    try {
      let affected: number;
      try {
        affected = (await bulkAction({ action, ids })).affected;
      } catch (error) {
        if (!isMissingRoute(error)) throw error;
        // A server without the bulk route: one call per run.
        const results = await Promise.allSettled(
          ids.map((id) => api(`${runPath(id)}/${action}`, { method: "POST" })),
        );
        affected = results.filter((r) => r.status === "fulfilled").length;
      }
      setMessage({
        kind: "ok",
        text: `${action === "cancel" ? "Cancelled" : "Retried"} ${affected} of ${ids.length} selected run${ids.length === 1 ? "" : "s"}.`,
      });
      setSelected(new Set());
      await client.invalidateQueries({ queryKey: ["runs"] });
    } catch (error) {
      setMessage({ kind: "error", text: (error as Error).message });
    }
  };

  const goNext = () => {
    const nextCursor = runs.data?.nextCursor;
    if (!nextCursor) return;
    const next = new URLSearchParams(params);
    next.set("cursor", nextCursor);
    void navigate(`?${next}`, { state: { previous: [...previous, cursor ?? ""] } });
  };
  const goPrevious = () => {
    const back = previous.pop();
    const next = new URLSearchParams(params);
    if (back) next.set("cursor", back);
    else next.delete("cursor");
    void navigate(`?${next}`, { state: { previous } });
  };

  const selectedRuns = page.filter((r) => selected.has(r.id));
  // Bulk actions select by the indexed filters only: with a search they would reach runs
  // the search does not show. Selecting runs on the page still works.
  const searching = filter.where !== undefined;
  const canCancel = selectedRuns.some((r) => !terminalStatuses.has(r.status));
  const canRetry = selectedRuns.some((r) => r.status === "failed" || r.status === "cancelled");

  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Runs</h1>
          <p className="muted">Every run of every workflow, newest first. Updates live.</p>
        </div>
        <div className="head-actions">
          <button
            type="button"
            className="btn"
            disabled={searching}
            title={searching ? bulkBySearch : undefined}
            onClick={() => setBulk("cancel")}
          >
            Cancel all matching…
          </button>
          <button
            type="button"
            className="btn"
            disabled={searching}
            title={searching ? bulkBySearch : undefined}
            onClick={() => setBulk("retry")}
          >
            Retry all matching…
          </button>
        </div>
      </header>

      <form className="filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        <label className="field">
          <span className="field-label">Workflow</span>
          <select
            value={filter.workflow ?? ""}
            onChange={(e) => setFilter("workflow", e.target.value)}
          >
            <option value="">All workflows</option>
            {(workflows.data ?? []).map((w) => (
              <option key={w.name} value={w.name}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Status</span>
          <select value={filter.status ?? ""} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">Any status</option>
            {runStatuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Created from</span>
          <input
            type="datetime-local"
            value={toLocalInput(filter.from)}
            onChange={(e) => setFilter("from", fromLocalInput(e.target.value))}
          />
        </label>
        <label className="field">
          <span className="field-label">Created before</span>
          <input
            type="datetime-local"
            value={toLocalInput(filter.to)}
            onChange={(e) => setFilter("to", fromLocalInput(e.target.value))}
          />
        </label>
        <label className="field" htmlFor={`${formId}-tag`}>
          <span className="field-label">Tag</span>
          <DebouncedInput
            id={`${formId}-tag`}
            placeholder="key:value"
            value={filter.tag ?? ""}
            onCommit={(v) => setFilter("tag", v)}
          />
        </label>
        <label className="field" htmlFor={`${formId}-where`}>
          <span className="field-label">Input/output has</span>
          <DebouncedInput
            id={`${formId}-where`}
            placeholder="input.customer.id:c-17"
            value={filter.where ?? ""}
            onCommit={(v) => setFilter("where", v)}
          />
        </label>
        <label className="field" htmlFor={`${formId}-id`}>
          <span className="field-label">Run id starts with</span>
          <DebouncedInput
            id={`${formId}-id`}
            placeholder="order-"
            value={filter.idPrefix ?? ""}
            onCommit={(v) => setFilter("idPrefix", v)}
          />
        </label>
        {Object.keys(filter).length > 0 ? (
          <button
            type="button"
            className="btn btn-ghost filters-clear"
            onClick={() => {
              setSelected(new Set());
              setParams(new URLSearchParams(), { replace: true });
            }}
          >
            Clear filters
          </button>
        ) : null}
      </form>

      {selected.size > 0 ? (
        <section className="selection-bar" aria-label="Selected runs">
          <span>
            <strong>{selected.size}</strong> selected
          </span>
          <button
            type="button"
            className="btn btn-danger btn-small"
            disabled={!canCancel}
            onClick={() => void actOnSelected("cancel")}
          >
            Cancel selected
          </button>
          <button
            type="button"
            className="btn btn-small"
            disabled={!canRetry}
            onClick={() => void actOnSelected("retry")}
          >
            Retry selected
          </button>
          <button
            type="button"
            className="btn btn-ghost btn-small"
            onClick={() => setSelected(new Set())}
          >
            Clear selection
          </button>
        </section>
      ) : null}
      {message ? (
        <p className={`alert ${message.kind === "ok" ? "alert-ok" : "alert-error"}`} role="status">
          {message.text}
        </p>
      ) : null}

      {runs.isError ? (
        <ErrorState error={runs.error} retry={() => void runs.refetch()} />
      ) : runs.isPending ? (
        <Loading what="runs" />
      ) : page.length === 0 ? (
        <EmptyState
          title={Object.keys(filter).length > 0 ? "No runs match these filters." : "No runs yet."}
        >
          {Object.keys(filter).length > 0 ? (
            "Widen the filters or clear them."
          ) : (
            <>
              Start one from the <Link to="/workflows">workflows</Link> page, or with{" "}
              <code>cairn run &lt;workflow&gt;</code>.
            </>
          )}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Runs">
            <thead>
              <tr>
                <th className="col-check">
                  <input
                    type="checkbox"
                    aria-label="Select all runs on this page"
                    checked={allSelected}
                    onChange={() =>
                      setSelected(allSelected ? new Set() : new Set(page.map((r) => r.id)))
                    }
                  />
                </th>
                <th>Run</th>
                <th>Workflow</th>
                <th>Status</th>
                <th>Created</th>
                <th className="num">Duration</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {page.map((run) => (
                <RunRow
                  key={run.id}
                  run={run}
                  selected={selected.has(run.id)}
                  onToggle={() => toggle(run.id)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages">
        <button
          type="button"
          className="btn btn-small"
          disabled={cursor === undefined}
          onClick={goPrevious}
        >
          ← Newer
        </button>
        <span className="muted small">
          {page.length > 0 ? `${page.length} run${page.length === 1 ? "" : "s"} on this page` : ""}
        </span>
        <button
          type="button"
          className="btn btn-small"
          disabled={!runs.data?.nextCursor}
          onClick={goNext}
        >
          Older →
        </button>
      </nav>
      {bulk ? <BulkDialog action={bulk} filter={filter} onClose={() => setBulk(null)} /> : null}
    </section>
  );
}

function RunRow({
  run,
  selected,
  onToggle,
}: {
  run: RunSummary;
  selected: boolean;
  onToggle: () => void;
}) {
  return (
    <tr className={selected ? "row-selected" : undefined} data-run-id={run.id}>
      <td className="col-check">
        <input
          type="checkbox"
          aria-label={`Select run ${run.id}`}
          checked={selected}
          onChange={onToggle}
        />
      </td>
      <td className="mono">
        <Link to={`/runs/${encodeURIComponent(run.id)}`}>{run.id}</Link>
      </td>
      <td>{run.workflow}</td>
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td>
        <TimeText iso={run.createdAt} />
      </td>
      <td className="num">{formatDuration(runDuration(run))}</td>
      <td className="cell-error" title={run.error?.message}>
        {run.error ? run.error.message : ""}
      </td>
    </tr>
  );
}

/** A text filter applied when typing pauses or on Enter, not on every keystroke. */
function DebouncedInput({
  id,
  value,
  onCommit,
  placeholder,
}: {
  id: string;
  value: string;
  onCommit: (value: string | undefined) => void;
  placeholder: string;
}) {
  const [text, setText] = useState(value);
  const [timer, setTimer] = useState<ReturnType<typeof setTimeout> | undefined>();
  return (
    <input
      id={id}
      type="search"
      placeholder={placeholder}
      value={text}
      onChange={(e) => {
        const next = e.target.value;
        setText(next);
        if (timer) clearTimeout(timer);
        setTimer(setTimeout(() => onCommit(next.trim() || undefined), 350));
      }}
      onKeyDown={(e) => {
        if (e.key === "Enter") {
          if (timer) clearTimeout(timer);
          onCommit(text.trim() || undefined);
        }
      }}
    />
  );
}
