import { Link } from "react-router";
import { isMissingRoute } from "../api/client.ts";
import { useEvents } from "../api/queries.ts";
import { EmptyState, ErrorState, Loading } from "../components/states.tsx";
import { TimeText } from "../components/time-text.tsx";

const runLinks = (ids: string[]) =>
  ids.length === 0 ? (
    <span className="muted">—</span>
  ) : (
    ids.map((id) => (
      <Link key={id} className="mono chip-link" to={`/runs/${encodeURIComponent(id)}`}>
        {id}
      </Link>
    ))
  );

/** Recent events and the runs each one started or woke. */
export function EventsPage() {
  const events = useEvents();
  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Events</h1>
          <p className="muted">Recent events and the runs they started or woke.</p>
        </div>
      </header>
      {events.isError ? (
        isMissingRoute(events.error) ? (
          <EmptyState title="This server does not list events.">
            It accepts them at <code>POST /api/v1/events</code>; upgrade it to browse them here.
          </EmptyState>
        ) : (
          <ErrorState error={events.error} retry={() => void events.refetch()} />
        )
      ) : events.isPending ? (
        <Loading what="events" />
      ) : events.data.events.length === 0 ? (
        <EmptyState title="No events yet.">
          Send one with <code>cairn events send &lt;name&gt; --data '{"{…}"}'</code>.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Events">
            <thead>
              <tr>
                <th>Event</th>
                <th>Received</th>
                <th>Data</th>
                <th>Started</th>
                <th>Woke</th>
              </tr>
            </thead>
            <tbody>
              {events.data.events.map((e) => (
                <tr key={e.id}>
                  <td>
                    <strong>{e.name}</strong>
                    <div className="mono small muted">{e.id}</div>
                  </td>
                  <td>
                    <TimeText iso={e.receivedAt} />
                  </td>
                  <td className="mono small cell-data">
                    {e.data === undefined ? "" : JSON.stringify(e.data)}
                  </td>
                  <td>{runLinks(e.started)}</td>
                  <td>{runLinks(e.woke)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
