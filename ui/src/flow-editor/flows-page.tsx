import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { listFlows } from "./flow-api.ts";

/** The deployed flows, newest version of each, with a way into the editor. */
export function FlowsPage() {
  const flows = useQuery({ queryKey: ["flows"], queryFn: listFlows });
  return (
    <div data-testid="flows-page">
      <h1>Flows</h1>
      <p>
        <Link to="/flows/new" data-testid="new-flow">
          + New flow
        </Link>
      </p>
      {flows.isError ? <p role="alert">{(flows.error as Error).message}</p> : null}
      <table className="fe-versions">
        <thead>
          <tr>
            <th>name</th>
            <th>version</th>
            <th>description</th>
            <th>author</th>
            <th>deployed</th>
          </tr>
        </thead>
        <tbody>
          {(flows.data ?? []).map((flow) => (
            <tr key={flow.name}>
              <td>
                <Link to={`/flows/${encodeURIComponent(flow.name)}`}>{flow.name}</Link>
              </td>
              <td>v{flow.version}</td>
              <td>{flow.description ?? ""}</td>
              <td>{flow.author ?? "—"}</td>
              <td>{new Date(flow.createdAt).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
