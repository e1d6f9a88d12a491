import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import type { JsonSchema } from "../api/types.ts";
import { initialValue, isFormable } from "../form/schema-model.ts";
import {
  type Deployed,
  deployFlow,
  FlowRejected,
  getFlowFile,
  getVersion,
  startRun,
  testStep,
} from "./flow-api.ts";
import { isRecord } from "./flow-document.ts";
import { FlowEditor } from "./flow-editor.tsx";
import { documentToGraph, type FlowGraph } from "./flow-graph.ts";
import { serverProblems } from "./server-problems.ts";
import { StepTestForm } from "./step-test-form.tsx";
import { stepTestSample } from "./step-test-sample.ts";
import { TestRunForm } from "./test-run-form.tsx";
import { useRunStates } from "./use-run-states.ts";
import { VersionsPanel } from "./versions-panel.tsx";
import { parseFlowYaml } from "./yaml-edits.ts";

const newFlowText = `# A new flow: add steps from the palette, connect them by dragging.
name: my-flow
description: What this flow does
input:
  type: object
  properties: {}
steps:
  - id: hello
    script:
      lang: bash
      source: |
        echo '{"hello": "world"}'
`;

/**
 * The flow editor page (`/flows/:name`, `/flows/new`): edit, deploy as a new version, test
 * run with live progress on the graph, versions with diffs, read-only old versions, rollback.
 */
export function FlowPage() {
  const { name = "new" } = useParams();
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const isNew = name === "new";
  const pinned = search.get("v");
  const version = useQuery({
    queryKey: ["flow-version", name, pinned ?? "latest"],
    queryFn: () => getVersion(name, pinned === null ? "latest" : Number(pinned)),
    enabled: !isNew,
  });
  const file = useQuery({
    queryKey: ["flow-file", name],
    queryFn: () => getFlowFile(name),
    enabled: !isNew,
  });
  const initialText = isNew ? newFlowText : (version.data?.source ?? null);
  const [text, setText] = useState(initialText ?? "");
  const [rejected, setRejected] = useState<string[]>([]);
  const [status, setStatus] = useState<string>("");
  const [runId, setRunId] = useState<string | null>(null);
  // The step whose test run `runId` is (null when it is a run of the whole flow).
  const [testedStep, setTestedStep] = useState<string | null>(null);
  const [selectedNode, setSelectedNode] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const graph = useMemo((): FlowGraph | null => {
    const parsed = parseFlowYaml(text);
    return parsed.value ? documentToGraph(parsed.value) : null;
  }, [text]);
  const live = useRunStates(runId, graph);
  const placeRejected = useCallback((g: FlowGraph) => serverProblems(rejected, g), [rejected]);

  const deploy = async (source: string): Promise<Deployed | null> => {
    setBusy(true);
    try {
      // A flow from a `cairn dev` file is saved back to it (while its name is unchanged).
      const sameName = parseFlowYaml(source).value?.name === name;
      const result = await deployFlow(source, file.data && sameName ? name : undefined);
      setRejected([]);
      setStatus(
        result.created
          ? `Deployed ${result.name} v${result.version}`
          : `Unchanged (v${result.version})`,
      );
      await queryClient.invalidateQueries({ queryKey: ["flow-versions", result.name] });
      await queryClient.invalidateQueries({ queryKey: ["flow-version", result.name, "latest"] });
      if (result.name !== name || pinned !== null) {
        await navigate(`/flows/${encodeURIComponent(result.name)}`);
      }
      return result;
    } catch (error) {
      if (error instanceof FlowRejected) {
        setRejected(error.errors);
        setStatus(`Not deployed: ${error.errors.length} error(s)`);
      } else setStatus(`Not deployed: ${(error as Error).message}`);
      return null;
    } finally {
      setBusy(false);
    }
  };

  const testRun = async (input: unknown) => {
    // A run starts the latest deployed version, so unsaved changes are deployed first.
    const deployed = text === version.data?.source ? version.data : await deploy(text);
    if (!deployed) return;
    try {
      const run = await startRun(deployed.name, input);
      setRunId(run.id);
      setTestedStep(null);
      setStatus(`Run ${run.id} started`);
    } catch (error) {
      setStatus(`Run not started: ${(error as Error).message}`);
    }
  };

  const runStep = async (stepId: string, sample: unknown) => {
    const deployed = text === version.data?.source ? version.data : await deploy(text);
    if (!deployed) return;
    try {
      const run = await testStep(deployed.name, stepId, sample);
      setRunId(run.id);
      setTestedStep(stepId);
      setStatus(`Test run ${run.id} of step ${stepId} started`);
    } catch (error) {
      setStatus(`Step test not started: ${(error as Error).message}`);
    }
  };

  const rollback = async (v: number) => {
    const old = await getVersion(name, v);
    await deploy(old.source);
  };

  if (!isNew && version.isError) return <p role="alert">{(version.error as Error).message}</p>;
  if (initialText === null) return <p>Loading flow…</p>;
  const readOnly = pinned !== null;
  const inputSchema = graph && isRecord(graph.meta.input) ? graph.meta.input : undefined;
  const stepNode = graph?.nodes.find((n) => n.id === selectedNode && n.type === "step");
  const sampleInput = isFormable(inputSchema as JsonSchema | undefined)
    ? initialValue(inputSchema as JsonSchema)
    : {};

  return (
    <div className="fe-page" data-testid="flow-page">
      <h1>
        {isNew ? "New flow" : name}
        {version.data ? <small> v{version.data.version}</small> : null}
      </h1>
      {readOnly ? (
        <p data-testid="read-only-banner">
          Viewing v{pinned} read-only.{" "}
          <Link to={`/flows/${encodeURIComponent(name)}`}>Open the latest</Link> or{" "}
          <button type="button" onClick={() => void rollback(Number(pinned))}>
            roll back to this version
          </button>
        </p>
      ) : null}
      <FlowEditor
        initialText={initialText}
        readOnly={readOnly}
        serverProblems={placeRejected}
        runStates={live.states}
        onTextChange={setText}
        onSelectNode={setSelectedNode}
        toolbar={
          <>
            <span data-testid="editor-status" role="status">
              {status}
            </span>
            {runId ? (
              <Link to={`/runs/${encodeURIComponent(runId)}`} data-testid="test-run-link">
                run {live.run?.status ?? ""}
              </Link>
            ) : null}
            {readOnly ? null : (
              <button
                type="button"
                data-testid="deploy"
                disabled={busy}
                onClick={() => void deploy(text)}
              >
                {file.data ? `Save to ${file.data.path} & deploy` : "Deploy"}
              </button>
            )}
          </>
        }
        side={
          readOnly ? null : (
            <>
              <TestRunForm
                key={JSON.stringify(inputSchema ?? null)}
                schema={inputSchema}
                disabled={busy}
                onStart={(input) => void testRun(input)}
              />
              {stepNode && graph ? (
                <StepTestForm
                  key={stepNode.id}
                  stepId={stepNode.stepId}
                  initial={stepTestSample(graph, stepNode.id, sampleInput)}
                  disabled={busy}
                  result={testedStep === stepNode.stepId && live.run ? live.run : null}
                  onStart={(sample) => void runStep(stepNode.stepId, sample)}
                />
              ) : null}
            </>
          )
        }
      />
      {isNew ? null : (
        <VersionsPanel
          name={name}
          {...(version.data ? { current: version.data.version } : {})}
          onRollback={(v) => void rollback(v)}
        />
      )}
    </div>
  );
}
