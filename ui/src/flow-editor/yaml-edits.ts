import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  type Node,
  Pair,
  parseDocument,
  Scalar,
  type YAMLSeq,
} from "yaml";
import type { FlowDocument } from "./flow-document.ts";
import type { DocPath, FlowGraph } from "./flow-graph.ts";

/**
 * Edits of the flow's YAML made through the `yaml` Document API, so that comments, key order
 * and quoting outside the edited node stay as the author wrote them.
 */

export interface ParsedFlow {
  doc: Document;
  /** The plain document, or `undefined` when the text does not parse. */
  value: FlowDocument | undefined;
  /** YAML syntax errors with their line (1-based). */
  errors: { message: string; line: number }[];
}

export function parseFlowYaml(text: string): ParsedFlow {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const lineOf = (offset: number) => text.slice(0, offset).split("\n").length;
  const errors = doc.errors.map((error) => ({
    message: error.message.split("\n")[0] ?? error.message,
    line: lineOf(error.pos[0]),
  }));
  if (errors.length > 0) return { doc, value: undefined, errors };
  const value = doc.toJS() as unknown;
  const isFlow = typeof value === "object" && value !== null && !Array.isArray(value);
  return { doc, value: isFlow ? (value as FlowDocument) : undefined, errors };
}

/**
 * The document as text. `[a, b]` without inner padding, as people write short lists, and no
 * folding of long lines, so a rewrite only touches what was edited.
 */
export function printFlowYaml(doc: Document): string {
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}

/** A YAML node for a value; text with line breaks becomes a `|` block, as people write scripts. */
function toNode(doc: Document, value: unknown): Node {
  const node = doc.createNode(value) as Node;
  if (isScalar(node) && typeof node.value === "string" && node.value.includes("\n")) {
    node.type = Scalar.BLOCK_LITERAL;
  }
  // Short lists of names (needs) read best inline.
  if (isSeq(node) && node.items.every((item) => isScalar(item))) node.flow = true;
  return node;
}

/** Appends a step to the list at `stepsPath` (created when missing). */
export function addStep(doc: Document, stepsPath: DocPath, step: Record<string, unknown>): void {
  const list = doc.getIn(stepsPath, true);
  if (isSeq(list)) {
    const node = doc.createNode(step) as Node;
    blockScripts(node);
    list.items.push(node);
    return;
  }
  const node = doc.createNode([step]) as Node;
  blockScripts(node);
  doc.setIn(stepsPath, node);
}

/** Turns every multi-line string under `node` into a `|` block. */
function blockScripts(node: unknown): void {
  if (isScalar(node)) {
    if (typeof node.value === "string" && node.value.includes("\n"))
      node.type = Scalar.BLOCK_LITERAL;
  } else if (isMap(node)) {
    for (const pair of node.items) blockScripts(pair.value);
  } else if (isSeq(node)) {
    for (const item of node.items) blockScripts(item);
  }
}

/** Sets (or, with `undefined`, removes) a value under a step; creates the maps on the way. */
export function setIn(doc: Document, path: DocPath, value: unknown): void {
  if (value === undefined) {
    if (doc.hasIn(path)) doc.deleteIn(path);
    return;
  }
  doc.setIn(path, toNode(doc, value));
}

/** Adds `sourceStepId` to the `needs` of the step at `targetPath`, right after its `id`. */
export function addNeed(doc: Document, targetPath: DocPath, sourceStepId: string): void {
  const needs = doc.getIn([...targetPath, "needs"], true);
  if (isSeq(needs)) {
    if (needs.items.some((item) => isScalar(item) && item.value === sourceStepId)) return;
    needs.items.push(doc.createNode(sourceStepId) as Node);
    return;
  }
  const step = doc.getIn(targetPath, true);
  if (!isMap(step)) throw new Error(`no step at ${formatPath(targetPath)}`);
  const pair = new Pair(doc.createNode("needs"), toNode(doc, [sourceStepId]));
  const idIndex = step.items.findIndex((item) => isScalar(item.key) && item.key.value === "id");
  step.items.splice(idIndex + 1, 0, pair as (typeof step.items)[number]);
}

/** Removes `sourceStepId` from the step's `needs`, and the key when nothing is left. */
export function removeNeed(doc: Document, targetPath: DocPath, sourceStepId: string): void {
  const needs = doc.getIn([...targetPath, "needs"], true);
  if (!isSeq(needs)) return;
  const seq = needs as YAMLSeq;
  seq.items = seq.items.filter((item) => !(isScalar(item) && item.value === sourceStepId));
  if (seq.items.length === 0) doc.deleteIn([...targetPath, "needs"]);
}

/**
 * Deletes a node's step (with its inner steps) and drops it from every `needs` that named it.
 * Later siblings move up one place, so paths from `graph` are used before the delete.
 */
export function deleteStep(doc: Document, graph: FlowGraph, nodeId: string): void {
  const node = graph.nodes.find((candidate) => candidate.id === nodeId);
  if (node === undefined || node.type !== "step") return;
  const byId = new Map(graph.nodes.map((candidate) => [candidate.id, candidate]));
  for (const edge of graph.edges) {
    if (edge.source !== nodeId) continue;
    const target = byId.get(edge.target);
    if (target !== undefined) removeNeed(doc, target.path, node.stepId);
  }
  doc.deleteIn(node.path);
}

/** Renames a step and every `needs` entry that pointed at it. */
export function renameStep(doc: Document, graph: FlowGraph, nodeId: string, newId: string): void {
  const node = graph.nodes.find((candidate) => candidate.id === nodeId);
  if (node === undefined || node.type !== "step") return;
  const byId = new Map(graph.nodes.map((candidate) => [candidate.id, candidate]));
  for (const edge of graph.edges) {
    if (edge.source !== nodeId) continue;
    const target = byId.get(edge.target);
    const needs = target && doc.getIn([...target.path, "needs"], true);
    if (!isSeq(needs)) continue;
    for (const item of needs.items)
      if (isScalar(item) && item.value === node.stepId) item.value = newId;
  }
  doc.setIn([...node.path, "id"], newId);
}

/** A step id not taken in the graph: `script-1`, `script-2`, … */
export function freshStepId(graph: FlowGraph, kind: string): string {
  const taken = new Set(graph.nodes.map((node) => node.stepId));
  const base = kind.toLowerCase();
  for (let n = 1; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** `steps[3].forEach.steps[0]`: how validation error messages name a place in the document. */
export function formatPath(path: DocPath): string {
  let out = "";
  for (const part of path)
    out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  return out;
}
