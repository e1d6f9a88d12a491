import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js";
import type { FlowGraph, GraphNode } from "./flow-graph.ts";
import { layeredLayout } from "./layered-layout.ts";

/** Where a node goes: relative to its group, as @xyflow/react places child nodes. */
export interface NodeBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type FlowLayout = Map<string, NodeBox>;

/** The part of an ELK instance the layout uses (the bundled one, or one in a worker). */
export interface ElkLike {
  layout(graph: ElkNode): Promise<ElkNode>;
}

export const stepWidth = 200;
export const stepHeight = 60;
/** Room for a group's title bar above its inner steps. */
const groupHeader = 36;
const layerGap = 60;
const nodeGap = 30;

const rootOptions = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  // One layout across group borders, so an edge into a forEach lines up with its inner steps.
  "elk.hierarchyHandling": "INCLUDE_CHILDREN",
  "elk.layered.spacing.nodeNodeBetweenLayers": String(layerGap),
  "elk.spacing.nodeNode": String(nodeGap),
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
};

/**
 * Past this many nodes ELK is too slow for the editor (`npm run bench:layout`: well over a
 * second for 300 steps on a cold page, tuned or not), so the editor's own layered layout
 * takes over; it draws the same left-to-right layers in a few milliseconds.
 */
export const largeGraph = 80;

const groupOptions = {
  "elk.padding": `[top=${groupHeader},left=16,bottom=16,right=16]`,
  "elk.spacing.nodeNode": "24",
};

/**
 * Lays a flow graph out left to right: with ELK's layered algorithm, or past
 * {@link largeGraph} nodes with the editor's own (`elk` is then not loaded at all); groups
 * size themselves around their inner steps. An empty group gets the size of a step.
 */
export async function layoutFlow(
  graph: FlowGraph,
  elk: ElkLike | (() => Promise<ElkLike>),
): Promise<FlowLayout> {
  // Nothing to place (a page still loading its flow): no reason to load ELK.
  if (graph.nodes.length === 0) return new Map();
  if (graph.nodes.length > largeGraph) {
    return layeredLayout(graph, {
      stepWidth,
      stepHeight,
      groupHeader,
      groupPadding: 16,
      layerGap,
      nodeGap,
    });
  }
  return layoutWithElk(graph, typeof elk === "function" ? await elk() : elk);
}

/** ELK alone, whatever the size (the layout bench compares it with the editor's own). */
export async function layoutWithElk(graph: FlowGraph, elk: ElkLike): Promise<FlowLayout> {
  const elkNodes = new Map<string, ElkNode>();
  const root: ElkNode = { id: "__root", layoutOptions: rootOptions, children: [], edges: [] };
  for (const node of graph.nodes) {
    const elkNode: ElkNode = node.isGroup
      ? { id: node.id, layoutOptions: groupOptions, children: [], edges: [] }
      : { id: node.id, width: stepWidth, height: stepHeight };
    elkNodes.set(node.id, elkNode);
  }
  for (const node of graph.nodes) {
    const elkNode = elkNodes.get(node.id) as ElkNode;
    const parent = node.parentId === undefined ? root : elkNodes.get(node.parentId);
    (parent ?? root).children?.push(elkNode);
  }
  for (const node of graph.nodes) {
    const elkNode = elkNodes.get(node.id) as ElkNode;
    if (node.isGroup && elkNode.children?.length === 0) {
      elkNode.width = stepWidth;
      elkNode.height = stepHeight + groupHeader;
    }
  }
  // ELK wants each edge in the innermost group holding both ends.
  const parents = new Map(graph.nodes.map((node) => [node.id, node.parentId]));
  // Unlisted dependencies order steps like `needs` ones, so they shape the layers too.
  for (const edge of [...graph.edges, ...graph.dataEdges]) {
    const container = commonAncestor(edge.source, edge.target, parents);
    const holder = container === undefined ? root : (elkNodes.get(container) ?? root);
    const elkEdge: ElkExtendedEdge = {
      id: edge.id,
      sources: [edge.source],
      targets: [edge.target],
    };
    holder.edges?.push(elkEdge);
  }

  const laidOut = await elk.layout(root);
  const layout: FlowLayout = new Map();
  const visit = (node: ElkNode) => {
    for (const child of node.children ?? []) {
      layout.set(child.id, {
        x: child.x ?? 0,
        y: child.y ?? 0,
        width: child.width ?? stepWidth,
        height: child.height ?? stepHeight,
      });
      visit(child);
    }
  };
  visit(laidOut);
  return layout;
}

function commonAncestor(
  a: string,
  b: string,
  parents: Map<string, string | undefined>,
): string | undefined {
  const chain = new Set<string>();
  for (let p = parents.get(a); p !== undefined; p = parents.get(p)) chain.add(p);
  for (let p = parents.get(b); p !== undefined; p = parents.get(p)) if (chain.has(p)) return p;
  return undefined;
}

/** Whether two graphs have the same boxes and edges, so an old layout still fits. */
export function sameShape(a: FlowGraph, b: FlowGraph): boolean {
  if (a.nodes.length !== b.nodes.length || a.edges.length !== b.edges.length) return false;
  const key = (n: GraphNode) => `${n.id}|${n.parentId ?? ""}|${n.isGroup}`;
  if (a.nodes.some((node, i) => key(node) !== key(b.nodes[i] as GraphNode))) return false;
  if (a.dataEdges.length !== b.dataEdges.length) return false;
  if (a.dataEdges.some((edge, i) => edge.id !== b.dataEdges[i]?.id)) return false;
  return a.edges.every((edge, i) => edge.id === b.edges[i]?.id);
}
