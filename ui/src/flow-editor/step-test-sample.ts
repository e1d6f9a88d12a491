import {
  compileExpression,
  expressionsIn,
  stepReferences,
} from "../../../src/core/flow/flow-expressions.ts";
import type { FlowGraph } from "./flow-graph.ts";

/** What a test run of one step is given, as `POST /api/v1/flows/{name}/steps/{step}/test` takes it. */
export interface StepTestSample {
  input: unknown;
  steps: Record<string, unknown>;
  item?: unknown;
  index?: number;
}

/**
 * A starting sample for testing a step alone: the flow input given, a `null` placeholder for
 * the output of every step it needs or reads (`steps.<id>`), and `item`/`index` when it sits
 * inside a forEach, for the person to fill in.
 */
export function stepTestSample(graph: FlowGraph, nodeId: string, input: unknown): StepTestSample {
  const node = graph.nodes.find((candidate) => candidate.id === nodeId);
  const sample: StepTestSample = { input, steps: {} };
  if (!node) return sample;
  const byId = new Map(graph.nodes.map((candidate) => [candidate.id, candidate]));
  const names = new Set<string>();
  for (const edge of [...graph.edges, ...graph.dataEdges]) {
    if (edge.target === nodeId) names.add(byId.get(edge.source)?.stepId ?? edge.source);
  }
  for (const { text } of expressionsIn(node.data, "")) {
    try {
      for (const name of stepReferences(compileExpression(text))) names.add(name);
    } catch {
      // An expression that does not parse is shown as a problem on the node already.
    }
  }
  for (const name of [...names].sort()) sample.steps[name] = null;
  for (let parent = node.parentId; parent !== undefined; parent = byId.get(parent)?.parentId) {
    if (byId.get(parent)?.kind === "forEach") {
      sample.item = null;
      sample.index = 0;
      break;
    }
  }
  return sample;
}
