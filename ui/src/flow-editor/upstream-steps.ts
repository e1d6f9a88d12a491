import type { FlowGraph, GraphNode } from "./flow-graph.ts";

/**
 * The steps whose outputs a node's expressions may read: everything it needs, directly or
 * through other steps, and what its enclosing groups need. In the order they appear.
 */
export function upstreamSteps(graph: FlowGraph, nodeId: string): GraphNode[] {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const into = new Map<string, string[]>();
  for (const edge of graph.edges)
    into.set(edge.target, [...(into.get(edge.target) ?? []), edge.source]);
  const found = new Set<string>();
  const visit = (id: string) => {
    for (const source of into.get(id) ?? []) {
      if (found.has(source)) continue;
      found.add(source);
      visit(source);
    }
    const parent = byId.get(id)?.parentId;
    if (parent !== undefined) visit(parent);
  };
  visit(nodeId);
  return graph.nodes.filter((node) => found.has(node.id) && node.type === "step");
}

/** Expression starters offered in `with` fields: upstream outputs, the input, loop variables. */
export function expressionSuggestions(
  graph: FlowGraph,
  nodeId: string,
  inputFields: string[],
): string[] {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const inLoop = (() => {
    for (let p = byId.get(nodeId)?.parentId; p !== undefined; p = byId.get(p)?.parentId) {
      if (byId.get(p)?.kind === "forEach") return true;
    }
    return false;
  })();
  return [
    ...upstreamSteps(graph, nodeId).map((node) => `=steps.${node.stepId}`),
    "=input",
    ...inputFields.map((field) => `=input.${field}`),
    ...(inLoop ? ["=item", "=index"] : []),
    "=run.id",
  ];
}
