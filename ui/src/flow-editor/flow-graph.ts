import { unlistedDependencies } from "./data-dependencies.ts";
import {
  type BranchCase,
  type FlowDocument,
  type FlowStep,
  isRecord,
  type StepKind,
  stepKindOf,
} from "./flow-document.ts";

/** A path into the document, as the `yaml` package's `getIn`/`setIn` take it. */
export type DocPath = (string | number)[];

/**
 * One box on the canvas. Steps are nodes; a `forEach` or `branch` step is also a group that
 * holds its inner steps (a branch through one `case` group per arm).
 */
export interface GraphNode {
  /** Unique on the canvas: the step ids from the top scope down, joined by `/`. */
  id: string;
  type: "step" | "case";
  /** The step id (for a case: its position in the branch, as text). */
  stepId: string;
  kind: StepKind | "case" | undefined;
  lang?: string;
  /** The group this node sits in: a forEach step or a branch case. */
  parentId?: string;
  /** Where the step (or case) lives in the document. */
  path: DocPath;
  /** The step (or case) without `needs` and without its inner `steps`: those are the graph. */
  data: Record<string, unknown>;
  isGroup: boolean;
}

/** `source` must finish before `target` starts: `target.needs` names `source`. */
export interface GraphEdge {
  id: string;
  source: string;
  target: string;
}

export interface FlowGraph {
  nodes: GraphNode[];
  /** The `needs` edges: what the document lists, and what editing changes. */
  edges: GraphEdge[];
  /**
   * Dependencies the document does not list: `target` reads `source`'s output (`steps.<id>`
   * in an expression of it or of its inner steps), so the engine waits for `source` all the
   * same. Drawn, never edited; a step that lists the dependency in `needs` has no such edge.
   */
  dataEdges: GraphEdge[];
  /** The document without `steps`. */
  meta: Record<string, unknown>;
  /** `needs` entries that name no step in reach, by node id (validation reports them). */
  unresolved: Map<string, string[]>;
}

/** One level of steps: the nodes it holds and the scope around it (for `needs` lookups). */
interface Scope {
  byStepId: Map<string, string>;
  outer?: Scope;
}

export function edgeId(source: string, target: string): string {
  return `${source}->${target}`;
}

export function dataEdgeId(source: string, target: string): string {
  return `${source}~>${target}`;
}

/** Draws a flow document as nodes and `needs` edges, in document order. */
export function documentToGraph(doc: FlowDocument): FlowGraph {
  const graph: FlowGraph = {
    nodes: [],
    edges: [],
    dataEdges: [],
    meta: {},
    unresolved: new Map(),
  };
  for (const [key, value] of Object.entries(doc)) if (key !== "steps") graph.meta[key] = value;
  const pending: { node: string; needs: unknown; scope: Scope }[] = [];
  const pendingReads: { node: string; read: string; scope: Scope }[] = [];

  const addSteps = (steps: unknown, basePath: DocPath, prefix: string, parentId?: string) => {
    if (!Array.isArray(steps)) return;
    const scope: Scope = { byStepId: new Map(), outer: scopes.get(parentId ?? "") };
    scopes.set(prefix, scope);
    const reads = unlistedDependencies(steps);
    steps.forEach((raw, index) => {
      const step = isRecord(raw) ? raw : {};
      const stepId = typeof step.id === "string" ? step.id : `#${index}`;
      const id = prefix === "" ? stepId : `${prefix}/${stepId}`;
      const path = [...basePath, index];
      const kind = stepKindOf(step);
      const data: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(step)) if (key !== "needs") data[key] = value;
      // An empty `needs: []` draws no edge; kept as data so the document survives the trip.
      if (Array.isArray(step.needs) && step.needs.length === 0) data.needs = [];
      const isGroup = kind === "forEach" || kind === "branch";
      if (kind === "forEach" && isRecord(step.forEach)) {
        const { steps: _inner, ...rest } = step.forEach;
        data.forEach = rest;
      }
      if (kind === "branch" && Array.isArray(step.branch)) data.branch = step.branch.length;
      const lang = kind === "script" && isRecord(step.script) ? step.script.lang : undefined;
      graph.nodes.push({
        id,
        type: "step",
        stepId,
        kind,
        ...(typeof lang === "string" ? { lang } : {}),
        ...(parentId === undefined ? {} : { parentId }),
        path,
        data,
        isGroup,
      });
      scope.byStepId.set(stepId, id);
      scopes.set(id, scope);
      for (const read of reads.get(index) ?? []) pendingReads.push({ node: id, read, scope });
      if (step.needs !== undefined) pending.push({ node: id, needs: step.needs, scope });
      if (kind === "forEach" && isRecord(step.forEach)) {
        addSteps(step.forEach.steps, [...path, "forEach", "steps"], id, id);
      }
      if (kind === "branch" && Array.isArray(step.branch)) {
        step.branch.forEach((rawCase, caseIndex) => {
          const arm = isRecord(rawCase) ? rawCase : {};
          const caseId = `${id}#${caseIndex}`;
          const { steps: _inner, ...caseData } = arm;
          graph.nodes.push({
            id: caseId,
            type: "case",
            stepId: String(caseIndex),
            kind: "case",
            parentId: id,
            path: [...path, "branch", caseIndex],
            data: caseData,
            isGroup: true,
          });
          scopes.set(caseId, scope);
          addSteps(arm.steps, [...path, "branch", caseIndex, "steps"], caseId, caseId);
        });
      }
    });
  };
  // Scopes by the id of the group that opens them ("" for the top), to find an outer step.
  const scopes = new Map<string, Scope>();
  addSteps(doc.steps, ["steps"], "");

  for (const { node, needs, scope } of pending) {
    const names = Array.isArray(needs) ? needs : [needs];
    for (const name of names) {
      const source = typeof name === "string" ? resolve(scope, name) : undefined;
      if (source === undefined) {
        const list = graph.unresolved.get(node) ?? [];
        list.push(String(name));
        graph.unresolved.set(node, list);
        continue;
      }
      graph.edges.push({ id: edgeId(source, node), source, target: node });
    }
  }
  for (const { node, read, scope } of pendingReads) {
    const source = scope.byStepId.get(read);
    if (source !== undefined) {
      graph.dataEdges.push({ id: dataEdgeId(source, node), source, target: node });
    }
  }
  return graph;
}

function resolve(scope: Scope | undefined, stepId: string): string | undefined {
  for (let s = scope; s !== undefined; s = s.outer) {
    const found = s.byStepId.get(stepId);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Rebuilds the document a graph draws: steps in node order, `needs` from the edges in edge
 * order. The inverse of {@link documentToGraph} for documents whose `needs` all resolve.
 */
export function graphToDocument(graph: FlowGraph): FlowDocument {
  const children = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) {
    const key = node.parentId ?? "";
    const list = children.get(key) ?? [];
    list.push(node);
    children.set(key, list);
  }
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const needsOf = new Map<string, string[]>();
  for (const edge of graph.edges) {
    const source = byId.get(edge.source);
    if (source === undefined) continue;
    const list = needsOf.get(edge.target) ?? [];
    list.push(source.stepId);
    needsOf.set(edge.target, list);
  }

  const buildSteps = (parentKey: string): FlowStep[] =>
    (children.get(parentKey) ?? []).map((node) => {
      const step: Record<string, unknown> = { ...node.data };
      const needs = needsOf.get(node.id);
      if (needs !== undefined) step.needs = needs;
      if (node.kind === "forEach") {
        step.forEach = { ...(node.data.forEach as object), steps: buildSteps(node.id) };
      }
      if (node.kind === "branch") {
        step.branch = (children.get(node.id) ?? []).map(
          (arm): BranchCase => ({ ...arm.data, steps: buildSteps(arm.id) }),
        );
      }
      return step as FlowStep;
    });

  return { ...graph.meta, steps: buildSteps("") } as FlowDocument;
}
