import { Link, useParams } from "react-router";
import { useWorkflows } from "../api/queries.ts";
import { JsonView } from "../components/json-view.tsx";
import { ErrorState, Loading } from "../components/states.tsx";
import { RecentRuns } from "../workflows/recent-runs.tsx";
import { StartRunForm } from "../workflows/start-run-form.tsx";
import { optionEntries, triggerText } from "../workflows/workflow-options.ts";

/** One workflow: its configuration and input schema, and a form that starts a run. */
export function WorkflowPage() {
  const { name = "" } = useParams();
  const workflows = useWorkflows();
  if (workflows.isError)
    return <ErrorState error={workflows.error} retry={() => void workflows.refetch()} />;
  if (workflows.isPending) return <Loading what="the workflow" />;
  const workflow = workflows.data.find((w) => w.name === name);
  if (!workflow) {
    return (
      <section className="page">
        <h1>Workflow {name}</h1>
        <ErrorState
          error={new Error(`No workflow named "${name}" is registered with this server.`)}
        />
        <p>
          <Link to="/workflows">All workflows</Link>
        </p>
      </section>
    );
  }
  const options = optionEntries(workflow);
  return (
    <section className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/workflows">Workflows</Link> / <span>{workflow.name}</span>
      </nav>
      <header className="page-head">
        <div>
          <h1>{workflow.name}</h1>
          <p className="muted">
            {workflow.local ? "Runs in this process." : "Runs on another worker."}
          </p>
        </div>
      </header>
      <div className="grid-2 grid-wide-left">
        <section className="panel" id="start" aria-label="Start a run">
          <h2>Start a run</h2>
          <StartRunForm workflow={workflow} />
        </section>
        <div className="stack">
          <section className="panel" aria-label="Configuration">
            <h2>Configuration</h2>
            {options.length === 0 ? (
              <p className="muted small">Default options.</p>
            ) : (
              <dl className="kv">
                {options.map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{v}</dd>
                  </div>
                ))}
              </dl>
            )}
            {(workflow.triggers ?? []).length > 0 ? (
              <p className="small">
                <strong>Triggers:</strong>{" "}
                {(workflow.triggers ?? []).map((t) => (
                  <code key={triggerText(t)} className="chip">
                    {triggerText(t)}
                  </code>
                ))}
              </p>
            ) : null}
          </section>
          <section className="panel" aria-label="Recent runs">
            <h2>Recent runs</h2>
            <RecentRuns workflow={workflow.name} limit={10} />
          </section>
          {workflow.inputSchema ? (
            <section className="panel" aria-label="Input schema">
              <h2>Input schema</h2>
              <JsonView value={workflow.inputSchema} label="Input schema" />
            </section>
          ) : null}
        </div>
      </div>
    </section>
  );
}
