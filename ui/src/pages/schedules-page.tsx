import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api } from "../api/client.ts";
import { useSchedules } from "../api/queries.ts";
import type { Schedule } from "../api/types.ts";
import { EmptyState, ErrorState, Loading } from "../components/states.tsx";
import { formatTime } from "../lib/format.ts";
import { BackfillDialog } from "../schedules/backfill-dialog.tsx";

/** Cron schedules: next fire times in each schedule's zone, pause/resume, backfill. */
export function SchedulesPage() {
  const schedules = useSchedules();
  const client = useQueryClient();
  const [backfill, setBackfill] = useState<Schedule | null>(null);
  const [error, setError] = useState<unknown>(null);

  const toggle = async (schedule: Schedule) => {
    setError(null);
    try {
      await api(
        `/api/v1/schedules/${encodeURIComponent(schedule.id)}/${schedule.paused ? "resume" : "pause"}`,
        { method: "POST" },
      );
      await client.invalidateQueries({ queryKey: ["schedules"] });
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Schedules</h1>
          <p className="muted">Cron schedules and when they fire next, in their own time zone.</p>
        </div>
      </header>
      {error ? <ErrorState error={error} /> : null}
      {schedules.isError ? (
        <ErrorState error={schedules.error} retry={() => void schedules.refetch()} />
      ) : schedules.isPending ? (
        <Loading what="schedules" />
      ) : schedules.data.length === 0 ? (
        <EmptyState title="No schedules.">
          Give a workflow a <code>cron</code> trigger, or create one with{" "}
          <code>POST /api/v1/schedules</code>.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Schedules">
            <thead>
              <tr>
                <th>Schedule</th>
                <th>Workflow</th>
                <th>Cron</th>
                <th>State</th>
                <th>Next fire times</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {schedules.data.map((s) => (
                <tr key={s.id} data-schedule={s.id}>
                  <td className="mono">{s.id}</td>
                  <td>
                    <Link to={`/runs?workflow=${encodeURIComponent(s.workflow)}`}>
                      {s.workflow}
                    </Link>
                  </td>
                  <td>
                    <code>{s.cron}</code>
                    <div className="small muted">
                      {s.tz} · overlap {s.overlap} · catch-up {s.catchup}
                    </div>
                  </td>
                  <td>
                    <span className={`badge ${s.paused ? "badge-cancelled" : "badge-completed"}`}>
                      <span className="badge-dot" aria-hidden="true" />
                      {s.paused ? "paused" : "active"}
                    </span>
                  </td>
                  <td>
                    {s.paused ? (
                      <span className="muted small">paused</span>
                    ) : (
                      <ul className="fires">
                        {(s.nextFires ?? [s.nextAt]).slice(0, 3).map((t) => (
                          <li key={t}>{formatTime(t, s.tz)}</li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td className="actions">
                    <button type="button" className="btn btn-small" onClick={() => void toggle(s)}>
                      {s.paused ? "Resume" : "Pause"}
                    </button>
                    <button type="button" className="btn btn-small" onClick={() => setBackfill(s)}>
                      Backfill…
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {backfill ? <BackfillDialog schedule={backfill} onClose={() => setBackfill(null)} /> : null}
    </section>
  );
}
