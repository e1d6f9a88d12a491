import { Handle, type NodeProps, Position } from "@xyflow/react";
import { memo } from "react";
import type { GraphNode } from "./flow-graph.ts";
import type { FlowProblem } from "./flow-validate.ts";
import type { NodeRunState } from "./run-states.ts";
import type { NodeChange } from "./version-diff.ts";

/** What each canvas node carries: its graph node and the overlays drawn on it. */
export interface CanvasNodeData extends Record<string, unknown> {
  node: GraphNode;
  problems: FlowProblem[];
  run?: NodeRunState;
  change?: NodeChange;
}

const kindIcons: Record<string, string> = {
  script: "</>",
  action: "ƒ",
  http: "⇄",
  workflow: "↳",
  sleep: "☾",
  approval: "✔",
  waitForEvent: "✉",
  branch: "⑂",
  forEach: "↻",
};

function classes(data: CanvasNodeData, base: string): string {
  const list = [base];
  if (data.problems.length > 0) list.push("has-problem");
  if (data.run) list.push(`run-${data.run.status}`);
  if (data.change) list.push(`diff-${data.change}`);
  return list.join(" ");
}

function RunBadge({ run }: { run: NodeRunState | undefined }) {
  if (!run) return null;
  const attempt = run.status === "retrying" || run.attempt > 1 ? ` #${run.attempt}` : "";
  return (
    <span className="fe-run-badge" data-status={run.status}>
      {run.status}
      {attempt}
    </span>
  );
}

function ProblemBadge({ problems }: { problems: FlowProblem[] }) {
  if (problems.length === 0) return null;
  return (
    <div className="fe-problem" role="alert" title={problems.map((p) => p.message).join("\n")}>
      ⚠ {problems[0]?.message}
      {problems.length > 1 ? ` (+${problems.length - 1})` : ""}
    </div>
  );
}

/** A step: its kind, language and id, with its run state or its problems. */
export const StepNode = memo(function StepNode({ data, selected }: NodeProps) {
  const d = data as CanvasNodeData;
  const { node } = d;
  return (
    <div
      className={`${classes(d, "fe-node")}${selected ? " selected" : ""}`}
      data-node-id={node.id}
      data-testid={`node-${node.id}`}
    >
      <Handle type="target" position={Position.Left} />
      <div className="fe-node-head">
        <span className="fe-kind" title={node.kind}>
          {kindIcons[node.kind ?? ""] ?? "?"} {node.kind ?? "no kind"}
        </span>
        {node.lang ? <span className="fe-lang">{node.lang}</span> : null}
        <RunBadge run={d.run} />
      </div>
      <div className="fe-node-id">{node.stepId}</div>
      <ProblemBadge problems={d.problems} />
      <Handle type="source" position={Position.Right} />
    </div>
  );
});

/** A forEach or branch step drawn around its inner steps, or one arm of a branch. */
export const GroupNode = memo(function GroupNode({ data, selected }: NodeProps) {
  const d = data as CanvasNodeData;
  const { node } = d;
  const isCase = node.type === "case";
  const title = isCase
    ? node.data.else === true
      ? "else"
      : `if ${String(node.data.if ?? "")}`
    : `${kindIcons[node.kind ?? ""] ?? ""} ${node.kind} ${node.stepId}`;
  const progress = d.run?.done !== undefined ? ` ${d.run.done}/${d.run.total ?? "?"}` : "";
  return (
    <div
      className={`${classes(d, isCase ? "fe-case" : "fe-group")}${selected ? " selected" : ""}`}
      data-node-id={node.id}
      data-testid={`node-${node.id}`}
      data-drop-target={node.id}
    >
      {isCase ? null : <Handle type="target" position={Position.Left} />}
      <div className="fe-group-head">
        <span>{title}</span>
        {progress ? <span className="fe-progress">{progress}</span> : null}
        {isCase ? null : <RunBadge run={d.run} />}
      </div>
      <ProblemBadge problems={d.problems} />
      {isCase ? null : <Handle type="source" position={Position.Right} />}
    </div>
  );
});

export const nodeTypes = { step: StepNode, group: GroupNode };
