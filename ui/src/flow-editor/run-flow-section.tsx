import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { useRun } from "../api/queries.ts";
import { getVersion } from "./flow-api.ts";

const RunFlowGraph = lazy(() => import("./run-flow-graph.tsx"));

/** The flow version a run pinned in its first journal entry (`$flow`), once it has one. */
function pinnedVersion(steps: readonly { key: string; output?: unknown }[] | undefined) {
  const output = steps?.find((step) => step.key === "$flow")?.output as
    | { version?: unknown }
    | undefined;
  return typeof output?.version === "number" ? output.version : undefined;
}

/**
 * The graph section of a run page, for runs of a flow, drawn from the version the run runs.
 * Light on purpose: the graph (React Flow, ELK) loads only once the run's workflow turns out
 * to be a flow.
 */
export function RunFlowSection(props: { runId: string; workflow: string }) {
  const run = useRun(props.runId);
  const version = pinnedVersion(run.data?.steps);
  const flow = useQuery({
    queryKey: ["flow-version", props.workflow, version ?? "latest"],
    queryFn: () => getVersion(props.workflow, version ?? "latest"),
    retry: false,
    staleTime: 60_000,
  });
  if (!flow.data) return null;
  return (
    <Suspense fallback={<p className="muted">Loading the flow graph…</p>}>
      <RunFlowGraph runId={props.runId} source={flow.data.source} />
    </Suspense>
  );
}
