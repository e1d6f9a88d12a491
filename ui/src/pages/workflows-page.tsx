import { Link } from "react-router";
import { useWorkflows } from "../api/queries.ts";
import type { Workflow } from "../api/types.ts";
import { EmptyState, ErrorState, Loading } from "../components/states.tsx";
import { RecentRuns } from "../workflows/recent-runs.tsx";
import { optionEntries, triggerText } from "../workflows/workflow-options.ts";

/** Every workflow a worker registered: options, triggers, recent runs, a start button. */
export function WorkflowsPage() {
  const workflows = useWorkflows();
  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Workflows</h1>
          <p className="muted">What this server can start, and how each is configured.</p>
        </div>
      </header>
      {workflows.isError ? (
        <ErrorState error={workflows.error} retry={() => void workflows.refetch()} />
      ) : workflows.isPending ? (
        <Loading what="workflows" />
      ) : workflows.data.length === 0 ? (
        <EmptyState title="No workflows registered.">
          Start <code>cairn dev</code> with a file or folder of workflows, or a{" "}
          <code>cairn worker</code> against this database.
        </EmptyState>
      ) : (
        <div className="cards">
          {workflows.data.map((w) => (
            <WorkflowCard key={w.name} workflow={w} />
          ))}
        </div>
      )}
    </section>
  );
}

function WorkflowCard({ workflow }: { workflow: Workflow }) {
  const options = optionEntries(workflow);
  const triggers = workflow.triggers ?? [];
  const path = `/workflows/${encodeURIComponent(workflow.name)}`;
  return (
    <article className="card" aria-labelledby={`wf-${workflow.name}`}>
      <header className="card-head">
        <h2 id={`wf-${workflow.name}`}>
          <Link to={path}>{workflow.name}</Link>
        </h2>
        {workflow.local ? null : <span className="chip">remote worker</span>}
        <Link className="btn btn-primary btn-small" to={`${path}#start`}>
          Start run
        </Link>
      </header>
      {options.length > 0 ? (
        <dl className="kv">
          {options.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {triggers.length > 0 ? (
        <p className="small">
          <strong>Triggers:</strong>{" "}
          {triggers.map((t) => (
            <code key={triggerText(t)} className="chip">
              {triggerText(t)}
            </code>
          ))}
        </p>
      ) : null}
      <p className="small muted">
        {workflow.inputSchema
          ? "Input schema available: start runs from a form."
          : workflow.hasInputSchema
            ? "Validates its input."
            : "No input schema."}
      </p>
      <RecentRuns workflow={workflow.name} limit={5} />
    </article>
  );
}
