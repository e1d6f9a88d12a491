import { Link } from "react-router";
import { isMissingRoute } from "../api/client.ts";
import { useWorkers } from "../api/queries.ts";
import { EmptyState, ErrorState, Loading } from "../components/states.tsx";
import { TimeText } from "../components/time-text.tsx";

/** Live workers (by heartbeat): host, queues, workflows, the runs each holds now. */
export function WorkersPage() {
  const workers = useWorkers();
  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Workers</h1>
          <p className="muted">
            Processes executing runs, seen by their heartbeats. Refreshes every few seconds.
          </p>
        </div>
      </header>
      {workers.isError ? (
        isMissingRoute(workers.error) ? (
          <EmptyState title="This server does not report workers.">
            Upgrade it to see live workers here.
          </EmptyState>
        ) : (
          <ErrorState error={workers.error} retry={() => void workers.refetch()} />
        )
      ) : workers.isPending ? (
        <Loading what="workers" />
      ) : workers.data.workers.length === 0 ? (
        <EmptyState title="No live workers.">
          Start one with <code>cairn worker &lt;entry&gt;</code> or <code>cairn dev</code>.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Workers">
            <thead>
              <tr>
                <th>Worker</th>
                <th>Queues</th>
                <th>Workflows</th>
                <th className="num">Concurrency</th>
                <th>Runs held</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {workers.data.workers.map((w) => (
                <tr key={w.id}>
                  <td>
                    <span className="mono">{w.id}</span>
                    <div className="small muted">
                      {w.host} · pid {w.pid} · up since <TimeText iso={w.startedAt} />
                    </div>
                  </td>
                  <td>
                    {w.queues.map((q) => (
                      <code key={q} className="chip">
                        {q}
                      </code>
                    ))}
                  </td>
                  <td className="small">{w.workflows.join(", ") || "—"}</td>
                  <td className="num">{w.concurrency}</td>
                  <td>
                    {w.runs.length === 0 ? (
                      <span className="muted">idle</span>
                    ) : (
                      w.runs.map((id) => (
                        <Link
                          key={id}
                          className="mono chip-link"
                          to={`/runs/${encodeURIComponent(id)}`}
                        >
                          {id}
                        </Link>
                      ))
                    )}
                  </td>
                  <td>
                    <TimeText iso={w.lastSeenAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
