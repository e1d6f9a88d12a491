import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { getVersion } from "./flow-api.ts";
import { FlowCanvas } from "./flow-canvas.tsx";
import { documentToGraph, type FlowGraph } from "./flow-graph.ts";
import { diffVersions } from "./version-diff.ts";
import { parseFlowYaml } from "./yaml-edits.ts";

function graphOf(text: string): FlowGraph {
  const parsed = parseFlowYaml(text);
  return parsed.value
    ? documentToGraph(parsed.value)
    : { nodes: [], edges: [], dataEdges: [], meta: {}, unresolved: new Map() };
}

/** The newer version's graph with the older one's removed nodes and edges drawn in. */
function mergedGraph(older: FlowGraph, newer: FlowGraph): FlowGraph {
  const ids = new Set(newer.nodes.map((n) => n.id));
  const nodes = [...newer.nodes];
  for (const node of older.nodes) {
    if (ids.has(node.id)) continue;
    ids.add(node.id);
    const parentKept = node.parentId === undefined || ids.has(node.parentId);
    const { parentId, ...rest } = node;
    nodes.push(parentKept && parentId !== undefined ? { ...rest, parentId } : rest);
  }
  const edgeIds = new Set(newer.edges.map((e) => e.id));
  const edges = [
    ...newer.edges,
    ...older.edges.filter((e) => !edgeIds.has(e.id) && ids.has(e.source) && ids.has(e.target)),
  ];
  // Unlisted dependencies as the newer version has them: the diff is of what the document lists.
  return { nodes, edges, dataEdges: newer.dataEdges, meta: newer.meta, unresolved: new Map() };
}

/** Two versions side by side: the graph with added, removed and changed nodes, and a line diff. */
export function VersionDiffView(props: { name: string; older: number; newer: number }) {
  const older = useQuery({
    queryKey: ["flow-version", props.name, props.older],
    queryFn: () => getVersion(props.name, props.older),
  });
  const newer = useQuery({
    queryKey: ["flow-version", props.name, props.newer],
    queryFn: () => getVersion(props.name, props.newer),
  });
  const diff = useMemo(() => {
    if (!older.data || !newer.data) return null;
    const a = { graph: graphOf(older.data.source), text: older.data.source };
    const b = { graph: graphOf(newer.data.source), text: newer.data.source };
    return { ...diffVersions(a, b), graph: mergedGraph(a.graph, b.graph) };
  }, [older.data, newer.data]);
  if (!diff) return <div>Loading versions…</div>;
  return (
    <section data-testid="version-diff">
      <h3>
        v{props.older} → v{props.newer}
      </h3>
      <p data-testid="diff-summary">
        {[...diff.nodes.values()].filter((c) => c === "added").length} added,{" "}
        {[...diff.nodes.values()].filter((c) => c === "removed").length} removed,{" "}
        {[...diff.nodes.values()].filter((c) => c === "changed").length} changed
      </p>
      <div style={{ height: 360 }}>
        <FlowCanvas graph={diff.graph} nodeChanges={diff.nodes} edgeChanges={diff.edges} readOnly />
      </div>
      <div className="fe-diff" data-testid="yaml-diff">
        {diff.lines.map((line) => (
          <div key={`${line.oldLine ?? "-"}:${line.newLine ?? "-"}`} className={line.kind}>
            {line.kind === "added" ? "+ " : line.kind === "removed" ? "- " : "  "}
            {line.text}
          </div>
        ))}
      </div>
    </section>
  );
}
