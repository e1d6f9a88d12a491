import type { FlowGraph, GraphNode } from "./flow-graph.ts";

/** A node's state in one run, as the live graph draws it. */
export type NodeStatus =
  | "pending"
  | "running"
  | "waiting"
  | "completed"
  | "failed"
  | "skipped"
  | "retrying";

export interface NodeRunState {
  status: NodeStatus;
  /** The attempt in progress or last made (retrying steps show it). */
  attempt: number;
  /** Journal keys of this node in the run: one, or one per forEach iteration. */
  keys: string[];
  /** forEach groups: iterations finished, and how many there are (when known). */
  done?: number;
  total?: number;
}

/** What the run page knows of one journal entry (from the steps read, then from the stream). */
export interface StepRecord {
  key: string;
  /** The journal status, or `started` while an attempt runs. */
  status: string;
  attempt: number;
  output?: unknown;
}

/**
 * The journal key pattern of each step node: `fetch`, `per-order[*].enrich` (a forEach
 * iteration's steps carry the item's index). Branch arms add nothing: their steps are keyed
 * like the branch's siblings, as the engine runs them.
 */
export function keyTemplates(graph: FlowGraph): Map<string, string> {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const prefixOf = (node: GraphNode): string => {
    const parent = node.parentId === undefined ? undefined : byId.get(node.parentId);
    if (parent === undefined) return "";
    if (parent.type === "case") {
      const branch = parent.parentId === undefined ? undefined : byId.get(parent.parentId);
      return branch === undefined ? "" : prefixOf(branch);
    }
    return `${prefixOf(parent)}${parent.stepId}[*].`;
  };
  const templates = new Map<string, string>();
  for (const node of graph.nodes) {
    if (node.type === "step") templates.set(node.id, `${prefixOf(node)}${node.stepId}`);
  }
  return templates;
}

const rank: Record<NodeStatus, number> = {
  failed: 6,
  retrying: 5,
  running: 4,
  waiting: 3,
  pending: 2,
  completed: 1,
  skipped: 0,
};

function statusOf(record: StepRecord, node: GraphNode, inBranch: boolean): NodeStatus {
  switch (record.status) {
    case "started":
      return "running";
    case "retrying":
      return "retrying";
    case "waiting":
      return "waiting";
    case "failed":
      return "failed";
    case "completed":
      // The engine records a skipped step as a completed step with a null output; a step
      // that may be skipped (an `if`, or a branch arm) and has that record was skipped.
      return record.output === null && (node.data.if !== undefined || inBranch)
        ? "skipped"
        : "completed";
    default:
      return "pending";
  }
}

/**
 * Each node's state from the run's journal records. Groups take the state of their inner
 * steps: failed or moving when one is, completed when all are; forEach groups count the
 * iterations whose steps have all finished.
 */
export function nodeStates(
  graph: FlowGraph,
  records: Iterable<StepRecord>,
  runFinished = false,
  forEachTotals: Map<string, number> = new Map(),
): Map<string, NodeRunState> {
  const templates = keyTemplates(graph);
  const byTemplate = new Map<string, GraphNode>();
  for (const node of graph.nodes) {
    const template = templates.get(node.id);
    if (template !== undefined) byTemplate.set(template, node);
  }
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const inBranch = (node: GraphNode) => {
    for (let p = node.parentId; p !== undefined; p = byId.get(p)?.parentId) {
      if (byId.get(p)?.type === "case") return true;
    }
    return false;
  };

  const states = new Map<string, NodeRunState>();
  // Per forEach group: iteration index → statuses of its steps.
  const iterations = new Map<string, Map<string, NodeStatus[]>>();
  for (const record of records) {
    const template = record.key.replace(/\[\d+\]/g, "[*]");
    const node = byTemplate.get(template);
    if (node === undefined) continue;
    const status = statusOf(record, node, inBranch(node));
    const state = states.get(node.id);
    if (state === undefined) {
      states.set(node.id, { status, attempt: record.attempt, keys: [record.key] });
    } else {
      if (rank[status] > rank[state.status]) state.status = status;
      state.attempt = Math.max(state.attempt, record.attempt);
      state.keys.push(record.key);
    }
    const parent = node.parentId === undefined ? undefined : byId.get(node.parentId);
    if (parent?.kind === "forEach") {
      const index = /\[(\d+)\]\.[^[\]]*$/.exec(record.key)?.[1] ?? "0";
      const perGroup = iterations.get(parent.id) ?? new Map<string, NodeStatus[]>();
      perGroup.set(index, [...(perGroup.get(index) ?? []), status]);
      iterations.set(parent.id, perGroup);
    }
  }

  // A forEach iteration is done when every step of it has a finished record.
  for (const [groupId, perGroup] of iterations) {
    const inner = graph.nodes.filter((n) => n.parentId === groupId && n.type === "step").length;
    let done = 0;
    for (const statuses of perGroup.values()) {
      const finished = statuses.filter((s) => s === "completed" || s === "skipped").length;
      if (finished >= inner) done++;
    }
    const total = forEachTotals.get(groupId) ?? (runFinished ? perGroup.size : undefined);
    const state = states.get(groupId);
    const extra = { done, ...(total === undefined ? {} : { total }) };
    if (state) Object.assign(state, extra);
    else states.set(groupId, { status: "pending", attempt: 0, keys: [], ...extra });
  }

  // Groups, innermost first (children come after their group in document order).
  for (const node of [...graph.nodes].reverse()) {
    if (!node.isGroup) continue;
    const children = graph.nodes.filter((n) => n.parentId === node.id);
    if (!children.some((c) => states.has(c.id))) continue;
    const childStates = children.map((c) => states.get(c.id)?.status ?? "pending");
    let status: NodeStatus;
    if (childStates.every((s) => s === "skipped")) status = "skipped";
    else if (childStates.every((s) => s === "completed" || s === "skipped")) status = "completed";
    else {
      status = childStates.reduce((a, b) => (rank[b] > rank[a] ? b : a), "pending");
      if (status === "completed" || status === "skipped") status = "running";
    }
    const state = states.get(node.id) ?? { status, attempt: 0, keys: [] };
    state.status = status;
    const total = state.total;
    if (node.kind === "forEach" && total !== undefined && (state.done ?? 0) < total) {
      if (status === "completed") state.status = "running";
    }
    states.set(node.id, state);
  }
  if (runFinished) {
    for (const state of states.values()) if (state.status === "running") state.status = "failed";
  }
  return states;
}
