import { validateFlow as validateWithCore } from "../../../src/core/flow/validate-flow.ts";
import type { FlowGraph } from "./flow-graph.ts";
import type { FlowProblem } from "./flow-validate.ts";
import { serverProblems } from "./server-problems.ts";

/**
 * The engine's own validator (the code behind `cairn flows validate` and a refused deploy),
 * run in the browser, its errors placed on their nodes. Checks that need the server's disk
 * (script files, interpreters) or code generation (the input schema) are left to the deploy.
 */
export function coreProblems(value: unknown, graph: FlowGraph): FlowProblem[] {
  // The input schema is compiled by ajv, which generates code: the UI's CSP (no eval)
  // forbids that, so the deploy checks it.
  const checked =
    value !== null && typeof value === "object" && "input" in value
      ? Object.fromEntries(Object.entries(value).filter(([key]) => key !== "input"))
      : value;
  const result = validateWithCore(checked);
  return result.ok ? [] : serverProblems(result.errors, graph);
}

/**
 * The engine's problems, plus the editor's own for what the engine did not get to (its schema
 * check stops before the graph checks): one per node and place, a cycle once per node.
 */
export function mergeProblems(engine: FlowProblem[], editor: FlowProblem[]): FlowProblem[] {
  const key = (p: FlowProblem) =>
    `${p.nodeId ?? ""}|${p.message.startsWith("cycle:") ? "cycle" : p.path}`;
  const seen = new Set(engine.map(key));
  return [...engine, ...editor.filter((p) => !seen.has(key(p)))];
}
