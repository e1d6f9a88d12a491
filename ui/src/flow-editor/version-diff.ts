import { diffLines } from "diff";
import type { FlowGraph } from "./flow-graph.ts";

export type NodeChange = "added" | "removed" | "changed";

export interface VersionDiff {
  /** By node id; nodes that are the same in both versions are absent. */
  nodes: Map<string, NodeChange>;
  /** `needs` edges only in the newer version, or only in the older one. */
  edges: Map<string, "added" | "removed">;
  lines: DiffLine[];
}

export interface DiffLine {
  kind: "same" | "added" | "removed";
  text: string;
  /** Line numbers in the older / newer text (absent on the side the line is not in). */
  oldLine?: number;
  newLine?: number;
}

/** What changed from `older` to `newer`: nodes and edges for the graph, lines for the YAML. */
export function diffVersions(
  older: { graph: FlowGraph; text: string },
  newer: { graph: FlowGraph; text: string },
): VersionDiff {
  const nodes = new Map<string, NodeChange>();
  const before = new Map(older.graph.nodes.map((node) => [node.id, node]));
  const after = new Map(newer.graph.nodes.map((node) => [node.id, node]));
  const needsKey = (graph: FlowGraph, id: string) =>
    graph.edges
      .filter((edge) => edge.target === id)
      .map((edge) => edge.source)
      .join(",");
  for (const [id, node] of after) {
    const old = before.get(id);
    if (old === undefined) nodes.set(id, "added");
    else if (
      JSON.stringify(old.data) !== JSON.stringify(node.data) ||
      needsKey(older.graph, id) !== needsKey(newer.graph, id)
    ) {
      nodes.set(id, "changed");
    }
  }
  for (const id of before.keys()) if (!after.has(id)) nodes.set(id, "removed");

  const edges = new Map<string, "added" | "removed">();
  const oldEdges = new Set(older.graph.edges.map((edge) => edge.id));
  const newEdges = new Set(newer.graph.edges.map((edge) => edge.id));
  for (const id of newEdges) if (!oldEdges.has(id)) edges.set(id, "added");
  for (const id of oldEdges) if (!newEdges.has(id)) edges.set(id, "removed");

  return { nodes, edges, lines: diffText(older.text, newer.text) };
}

/** A line diff with line numbers on both sides. */
export function diffText(older: string, newer: string): DiffLine[] {
  const lines: DiffLine[] = [];
  let oldLine = 1;
  let newLine = 1;
  for (const part of diffLines(older, newer)) {
    const texts = part.value.replace(/\n$/, "").split("\n");
    for (const text of texts) {
      if (part.added) lines.push({ kind: "added", text, newLine: newLine++ });
      else if (part.removed) lines.push({ kind: "removed", text, oldLine: oldLine++ });
      else lines.push({ kind: "same", text, oldLine: oldLine++, newLine: newLine++ });
    }
  }
  return lines;
}
