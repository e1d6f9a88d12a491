import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useMemo, useState } from "react";
import { api } from "../api/client.ts";
import { FlowCanvas } from "./flow-canvas.tsx";
import { documentToGraph } from "./flow-graph.ts";
import { keyTemplates } from "./run-states.ts";
import { useRunStates } from "./use-run-states.ts";
import { parseFlowYaml } from "./yaml-edits.ts";

const StepLogs = lazy(() => import("./step-logs.tsx"));

/**
 * A flow run's graph on its run page: each node's state live from the event stream, forEach
 * groups counting iterations; a click on a node shows that step's input, output and logs.
 */
export default function RunFlowGraph(props: { runId: string; source: string }) {
  const graph = useMemo(() => {
    const parsed = parseFlowYaml(props.source);
    return parsed.value ? documentToGraph(parsed.value) : null;
  }, [props.source]);
  const live = useRunStates(props.runId, graph);
  const [selected, setSelected] = useState<string | null>(null);
  if (!graph) return null;
  const state = selected ? live.states.get(selected) : undefined;
  const template = selected ? keyTemplates(graph).get(selected) : undefined;
  return (
    <section data-testid="run-flow-graph">
      <h2>Flow graph</h2>
      <div style={{ height: 420 }}>
        <FlowCanvas
          graph={graph}
          runStates={live.states}
          readOnly
          selected={selected}
          onSelect={setSelected}
        />
      </div>
      {selected ? (
        <div className="fe-panel" data-testid="run-node-detail">
          <strong>{template ?? selected}</strong> — {state?.status ?? "pending"}
          {(state?.keys ?? []).map((key) => (
            <StepDetail
              key={key}
              runId={props.runId}
              stepKey={key}
              record={live.records.get(key)}
            />
          ))}
        </div>
      ) : null}
    </section>
  );
}

function StepDetail(props: {
  runId: string;
  stepKey: string;
  record: { status: string; attempt: number; output?: unknown } | undefined;
}) {
  const step = useQuery({
    queryKey: ["run-step", props.runId, props.stepKey, props.record?.status],
    queryFn: () =>
      api<{ steps: { key: string; input?: unknown; output?: unknown; error?: unknown }[] }>(
        `/api/v1/runs/${encodeURIComponent(props.runId)}/steps`,
      ).then((r) => r.steps.find((s) => s.key === props.stepKey) ?? null),
  });
  return (
    <details open data-testid={`step-detail-${props.stepKey}`}>
      <summary>
        {props.stepKey} · {props.record?.status} · attempt {props.record?.attempt}
      </summary>
      {step.data?.input !== undefined ? (
        <>
          <div>input</div>
          <pre>{JSON.stringify(step.data.input, null, 2)}</pre>
        </>
      ) : null}
      <div>output</div>
      <pre data-testid="step-output">
        {JSON.stringify(step.data?.output ?? props.record?.output ?? null, null, 2)}
      </pre>
      {step.data?.error ? (
        <pre className="fe-field-error">{JSON.stringify(step.data.error, null, 2)}</pre>
      ) : null}
      <Suspense fallback={null}>
        <StepLogs runId={props.runId} stepKey={props.stepKey} />
      </Suspense>
    </details>
  );
}
