import jsonata from "jsonata";
import { isRecord, scriptLangs, stepKinds, stepKindsOf } from "./flow-document.ts";
import type { DocPath, FlowGraph, GraphNode } from "./flow-graph.ts";
import { formatPath } from "./yaml-edits.ts";

/** One problem in a flow document, placed on the node it concerns when there is one. */
export interface FlowProblem {
  /** Where in the document, as in `steps[3].needs`. */
  path: string;
  message: string;
  nodeId?: string;
}

const stepIdPattern = /^[a-z0-9_-]+$/;

/**
 * The flow checks that need no server: ids, kinds, `needs`, cycles, languages and
 * JSONata syntax. The server repeats them (and more) on deploy; these give feedback as you type.
 */
export function validateFlow(graph: FlowGraph): FlowProblem[] {
  const problems: FlowProblem[] = [];
  const add = (path: DocPath, message: string, nodeId?: string) =>
    problems.push({ path: formatPath(path), message, ...(nodeId ? { nodeId } : {}) });

  if (typeof graph.meta.name !== "string" || graph.meta.name === "") {
    add(["name"], "a flow needs a name");
  }
  for (const [key, value] of Object.entries(graph.meta)) {
    checkExpressions(value, [key], (path, message) => add(path, message));
  }

  const seen = new Map<string, GraphNode>();
  for (const node of graph.nodes) {
    if (node.type !== "step") continue;
    const at = (key?: string) => (key === undefined ? node.path : [...node.path, key]);
    const step = node.data;
    if (typeof step.id !== "string") add(at("id"), "a step needs an id", node.id);
    else if (!stepIdPattern.test(step.id)) {
      add(at("id"), `"${step.id}" is not a valid id: use a-z, 0-9, _ and -`, node.id);
    } else if (seen.has(step.id)) {
      add(at("id"), `duplicate step id "${step.id}"`, node.id);
    } else seen.set(step.id, node);

    const kinds = stepKindsOf(step);
    if (kinds.length === 0) add(node.path, `a step needs one of: ${stepKinds.join(", ")}`, node.id);
    if (kinds.length > 1)
      add(node.path, `a step has one kind, found ${kinds.join(" and ")}`, node.id);
    if (node.kind === "script") {
      const script = isRecord(step.script) ? step.script : {};
      if (!scriptLangs.includes(script.lang as (typeof scriptLangs)[number])) {
        add([...at("script"), "lang"], `unknown language "${String(script.lang)}"`, node.id);
      }
      if (script.source === undefined && script.file === undefined) {
        add(at("script"), "a script needs a source or a file", node.id);
      }
    }
    if (node.kind === "forEach") {
      const forEach = isRecord(step.forEach) ? step.forEach : {};
      if (forEach.items === undefined)
        add([...at("forEach"), "items"], "forEach needs items", node.id);
    }
    for (const name of graph.unresolved.get(node.id) ?? []) {
      add(at("needs"), `unknown step "${name}"`, node.id);
    }
    for (const [key, value] of Object.entries(step)) {
      // A script's source is code, whatever its first character.
      if (key === "id" || key === "script") continue;
      checkExpressions(value, at(key), (path, message) => add(path, message, node.id));
    }
  }
  for (const node of graph.nodes) {
    if (node.type !== "case") continue;
    for (const [key, value] of Object.entries(node.data)) {
      checkExpressions(value, [...node.path, key], (path, message) => add(path, message, node.id));
    }
  }
  for (const cycle of findCycles(graph)) {
    const names = cycle.map((id) => graph.nodes.find((node) => node.id === id)?.stepId ?? id);
    const message = `cycle: ${[...names, names[0]].join(" → ")}`;
    for (const id of cycle) {
      const node = graph.nodes.find((candidate) => candidate.id === id);
      if (node) add([...node.path, "needs"], message, id);
    }
  }
  return problems;
}

/** Reports every `"=…"` string under `value` that is not valid JSONata. */
function checkExpressions(
  value: unknown,
  path: DocPath,
  report: (path: DocPath, message: string) => void,
): void {
  if (typeof value === "string") {
    const error = expressionError(value);
    if (error !== undefined) report(path, error);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => {
      checkExpressions(item, [...path, index], report);
    });
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) checkExpressions(item, [...path, key], report);
  }
}

/** The parse error of an `"=…"` expression, or `undefined` when it parses (or is no expression). */
export function expressionError(text: string): string | undefined {
  if (!text.startsWith("=")) return undefined;
  try {
    jsonata(text.slice(1));
    return undefined;
  } catch (error) {
    const e = error as { message?: string; position?: number };
    const where = typeof e.position === "number" ? ` (at character ${e.position})` : "";
    return `expression does not parse: ${e.message ?? String(error)}${where}`;
  }
}

/**
 * The cycles among `needs` edges (Tarjan's strongly connected sets), each as the node ids of one
 * closed walk through its set, in edge order, followed by the set's other members.
 */
export function findCycles(graph: FlowGraph): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of graph.edges) {
    const list = next.get(edge.source) ?? [];
    list.push(edge.target);
    next.set(edge.source, list);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (id: string) => {
    index.set(id, counter);
    low.set(id, counter);
    counter++;
    stack.push(id);
    onStack.add(id);
    for (const to of next.get(id) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(id, Math.min(low.get(id) as number, low.get(to) as number));
      } else if (onStack.has(to)) {
        low.set(id, Math.min(low.get(id) as number, index.get(to) as number));
      }
    }
    if (low.get(id) === index.get(id)) {
      const members: string[] = [];
      let top: string | undefined;
      do {
        top = stack.pop() as string;
        onStack.delete(top);
        members.push(top);
      } while (top !== id);
      const selfLoop = next.get(id)?.includes(id) ?? false;
      if (members.length > 1 || selfLoop) cycles.push(cyclePath(members.reverse(), next));
    }
  };
  for (const node of graph.nodes) if (!index.has(node.id)) visit(node.id);
  return cycles;
}

/** Orders a strongly connected set along a shortest cycle through its first member. */
function cyclePath(members: string[], next: Map<string, string[]>): string[] {
  const start = members[0] as string;
  const inSet = new Set(members);
  const parent = new Map<string, string>();
  const queue = [start];
  let last: string | undefined;
  for (let i = 0; i < queue.length && last === undefined; i++) {
    const id = queue[i] as string;
    for (const to of next.get(id) ?? []) {
      if (to === start) {
        last = id;
        break;
      }
      if (inSet.has(to) && !parent.has(to)) {
        parent.set(to, id);
        queue.push(to);
      }
    }
  }
  const path: string[] = [];
  for (let id = last; id !== undefined && id !== start; id = parent.get(id)) path.unshift(id);
  const walk = [start, ...path];
  return [...walk, ...members.filter((id) => !walk.includes(id))];
}
