import type { FlowGraph } from "./flow-graph.ts";
import type { FlowProblem } from "./flow-validate.ts";
import { formatPath } from "./yaml-edits.ts";

/**
 * Places the server's `path: message` errors on the nodes they concern: the node
 * whose document path is the longest prefix of the error's path; a cycle (reported on its
 * list of steps) on each step it names.
 */
export function serverProblems(errors: readonly string[], graph: FlowGraph): FlowProblem[] {
  const nodePaths = graph.nodes
    .map((node) => ({ id: node.id, path: formatPath(node.path), node }))
    .sort((a, b) => b.path.length - a.path.length);
  const problems: FlowProblem[] = [];
  for (const error of errors) {
    const split = error.indexOf(": ");
    const path = split < 0 ? "(document)" : error.slice(0, split);
    const message = split < 0 ? error : error.slice(split + 2);
    const cycle = /^cycle: (.+)$/.exec(message);
    if (cycle) {
      const names = new Set((cycle[1] ?? "").split(" → "));
      const scope = path === "steps" ? "" : path;
      const inScope = graph.nodes.filter(
        (node) =>
          names.has(node.stepId) &&
          formatPath(node.path).startsWith(scope) &&
          formatPath(node.path)
            .slice(scope.length)
            .match(/^\.?(steps)?\[\d+\]$/),
      );
      for (const node of inScope) problems.push({ path, message, nodeId: node.id });
      if (inScope.length > 0) continue;
    }
    const owner = nodePaths.find(
      (candidate) =>
        path === candidate.path ||
        path.startsWith(`${candidate.path}.`) ||
        path.startsWith(`${candidate.path}[`),
    );
    problems.push({ path, message, ...(owner ? { nodeId: owner.id } : {}) });
  }
  return problems;
}
