import { Link } from "react-router";
import { useRecentRuns } from "../api/queries.ts";
import { StatusBadge } from "../components/status-badge.tsx";
import { TimeText } from "../components/time-text.tsx";

/** The latest runs of one workflow, kept live by the app-wide stream. */
export function RecentRuns({ workflow, limit }: { workflow: string; limit: number }) {
  const runs = useRecentRuns(workflow, limit);
  if (runs.isError) return <p className="small text-error">Recent runs: {runs.error.message}</p>;
  if (!runs.data) return <p className="small muted">Loading recent runs…</p>;
  if (runs.data.runs.length === 0) return <p className="small muted">No runs yet.</p>;
  return (
    <ul className="recent-runs" aria-label={`Recent runs of ${workflow}`}>
      {runs.data.runs.map((run) => (
        <li key={run.id}>
          <StatusBadge status={run.status} />
          <Link className="mono" to={`/runs/${encodeURIComponent(run.id)}`}>
            {run.id}
          </Link>
          <span className="muted small">
            <TimeText iso={run.createdAt} />
          </span>
        </li>
      ))}
    </ul>
  );
}
