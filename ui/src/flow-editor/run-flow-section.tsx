import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { getVersion } from "./flow-api.ts";

const RunFlowGraph = lazy(() => import("./run-flow-graph.tsx"));

/**
 * The graph section of a run page, for runs of a flow. Light on purpose: the graph (React
 * Flow, ELK) loads only once the run's workflow turns out to be a flow.
 */
export function RunFlowSection(props: { runId: string; workflow: string }) {
  const flow = useQuery({
    queryKey: ["flow-version", props.workflow, "latest"],
    queryFn: () => getVersion(props.workflow, "latest"),
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
