import {
  applyNodeChanges,
  Background,
  type Connection,
  Controls,
  type Edge,
  MiniMap,
  type Node,
  type NodeChange,
  Panel,
  ReactFlow,
  ReactFlowProvider,
  useNodesInitialized,
  useReactFlow,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { StepKind } from "./flow-document.ts";
import type { FlowGraph } from "./flow-graph.ts";
import { type ElkLike, type FlowLayout, layoutFlow, sameShape } from "./flow-layout.ts";
import { type CanvasNodeData, nodeTypes } from "./flow-nodes.tsx";
import type { FlowProblem } from "./flow-validate.ts";
import type { NodeRunState } from "./run-states.ts";
import type { NodeChange as DiffChange } from "./version-diff.ts";
import "./flow-editor.css";

/** The MIME type a palette entry's drag carries. */
export const paletteMime = "application/x-cairn-step-kind";

export interface FlowCanvasProps {
  graph: FlowGraph;
  problems?: FlowProblem[];
  runStates?: Map<string, NodeRunState>;
  nodeChanges?: Map<string, DiffChange>;
  edgeChanges?: Map<string, "added" | "removed">;
  readOnly?: boolean;
  selected?: string | null;
  onSelect?: (nodeId: string | null) => void;
  onConnect?: (source: string, target: string) => void;
  onDisconnect?: (edgeIds: string[]) => void;
  onDeleteNodes?: (nodeIds: string[]) => void;
  /** A palette entry dropped on the canvas: into the group under the pointer, if any. */
  onDropKind?: (kind: StepKind, groupId: string | undefined) => void;
}

// One ELK for the page, loaded on the first flow small enough for it (large ones never need
// it). It runs in a Web Worker: a layout takes the page's main thread for nothing, so typing
// and dragging never wait for it.
let elkPromise: Promise<ElkLike> | undefined;
function loadElk(): Promise<ElkLike> {
  elkPromise ??= Promise.all([
    import("elkjs/lib/elk-api.js"),
    import("elkjs/lib/elk-worker.min.js?url"),
  ]).then(([api, worker]) => {
    const elk = new api.default({ workerUrl: worker.default });
    return { layout: elk.layout.bind(elk) as ElkLike["layout"] };
  });
  return elkPromise;
}

/** The flow's DAG, laid out by ELK and drawn by React Flow, with editing gestures wired up. */
export function FlowCanvas(props: FlowCanvasProps) {
  return (
    <ReactFlowProvider>
      <Canvas {...props} />
    </ReactFlowProvider>
  );
}

function Canvas(props: FlowCanvasProps) {
  const { graph, problems, runStates, nodeChanges, edgeChanges, readOnly } = props;
  const [layout, setLayout] = useState<{ graph: FlowGraph; boxes: FlowLayout } | null>(null);
  const [nodes, setNodes] = useState<Node[]>([]);
  const layoutFor = useRef<FlowGraph | null>(null);
  const flow = useReactFlow();
  // The layout the current node positions came from: a new one replaces dragged positions.
  const builtFrom = useRef<unknown>(null);

  // Lay out again only when boxes or edges changed; text edits keep the positions.
  useEffect(() => {
    if (layoutFor.current && sameShape(layoutFor.current, graph) && layout) {
      layoutFor.current = graph;
      return;
    }
    layoutFor.current = graph;
    let cancelled = false;
    performance.mark("flow-layout-start");
    void layoutFlow(graph, loadElk).then((boxes) => {
      if (cancelled) return;
      performance.mark("flow-layout-end");
      performance.measure("flow-layout", "flow-layout-start", "flow-layout-end");
      setLayout({ graph, boxes });
    });
    return () => {
      cancelled = true;
    };
  }, [graph, layout]);

  const problemsByNode = useMemo(() => {
    const map = new Map<string, FlowProblem[]>();
    for (const problem of problems ?? []) {
      if (problem.nodeId === undefined) continue;
      map.set(problem.nodeId, [...(map.get(problem.nodeId) ?? []), problem]);
    }
    return map;
  }, [problems]);

  useEffect(() => {
    if (!layout) return;
    // Decided outside the updater: React may call an updater twice.
    const fresh = builtFrom.current !== layout;
    builtFrom.current = layout;
    setNodes((previous) => {
      const kept = new Map(previous.map((node) => [node.id, node]));
      return graph.nodes.map((node): Node => {
        const box = layout.boxes.get(node.id) ?? { x: 0, y: 0, width: 200, height: 60 };
        const old = kept.get(node.id);
        const data: CanvasNodeData = {
          node,
          problems: problemsByNode.get(node.id) ?? [],
          ...(runStates?.get(node.id) ? { run: runStates.get(node.id) } : {}),
          ...(nodeChanges?.get(node.id) ? { change: nodeChanges.get(node.id) } : {}),
        };
        return {
          id: node.id,
          type: node.isGroup ? "group" : "step",
          position: old && !fresh ? old.position : { x: box.x, y: box.y },
          data,
          ...(node.parentId === undefined ? {} : { parentId: node.parentId }),
          ...(node.isGroup ? { style: { width: box.width, height: box.height } } : {}),
          selected: props.selected === node.id,
          draggable: !readOnly,
          connectable: !readOnly && node.type === "step",
          deletable: !readOnly && node.type === "step",
        };
      });
    });
  }, [layout, graph, problemsByNode, runStates, nodeChanges, readOnly, props.selected]);

  useEffect(() => {
    if (nodes.length > 0 && layout) performance.mark("flow-rendered");
  }, [nodes, layout]);

  // A new layout moves boxes around: show the whole graph again, once its boxes are measured.
  const measured = useNodesInitialized();
  useEffect(() => {
    if (!layout || !measured) return;
    const frame = requestAnimationFrame(() => void flow.fitView({ padding: 0.1, maxZoom: 1 }));
    return () => cancelAnimationFrame(frame);
  }, [layout, measured, flow]);

  const edges = useMemo(
    (): Edge[] => [
      ...graph.edges.map((edge): Edge => {
        const change = edgeChanges?.get(edge.id);
        const running = runStates?.get(edge.target)?.status === "running";
        return {
          id: edge.id,
          source: edge.source,
          target: edge.target,
          animated: running,
          deletable: !readOnly,
          ...(change ? { className: `diff-${change}` } : {}),
        };
      }),
      // Drawn dashed and left alone by gestures: they come from expressions, not `needs`.
      ...graph.dataEdges.map(
        (edge): Edge => ({
          id: edge.id,
          source: edge.source,
          target: edge.target,
          className: "fe-data-edge",
          deletable: false,
          reconnectable: false,
          selectable: false,
          ariaLabel: `${edge.target} reads the output of ${edge.source} (not in needs)`,
        }),
      ),
    ],
    [graph, edgeChanges, runStates, readOnly],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange[]) => {
      const removed = changes.filter((c) => c.type === "remove").map((c) => c.id);
      if (removed.length > 0) props.onDeleteNodes?.(removed);
      const rest = changes.filter((c) => c.type !== "remove");
      for (const change of rest) {
        if (change.type === "select" && change.selected) props.onSelect?.(change.id);
      }
      setNodes((current) => applyNodeChanges(rest, current));
    },
    [props.onDeleteNodes, props.onSelect],
  );

  const onConnect = useCallback(
    (connection: Connection) => {
      if (connection.source && connection.target && connection.source !== connection.target) {
        props.onConnect?.(connection.source, connection.target);
      }
    },
    [props.onConnect],
  );

  const onDrop = useCallback(
    (event: DragEvent) => {
      const kind = event.dataTransfer.getData(paletteMime) as StepKind;
      if (!kind) return;
      event.preventDefault();
      const under = document
        .elementsFromPoint(event.clientX, event.clientY)
        .find((el) => el instanceof HTMLElement && el.dataset.dropTarget !== undefined);
      props.onDropKind?.(kind, (under as HTMLElement | undefined)?.dataset.dropTarget);
    },
    [props.onDropKind],
  );

  return (
    <div
      role="application"
      aria-label="Flow graph"
      className="fe-canvas"
      data-testid="flow-canvas"
      data-laid-out={layout && sameShape(layout.graph, graph) ? "yes" : "no"}
      onDragOver={(event) => {
        if (event.dataTransfer.types.includes(paletteMime)) event.preventDefault();
      }}
      onDrop={onDrop}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onConnect={readOnly ? undefined : onConnect}
        onEdgesDelete={(deleted) => props.onDisconnect?.(deleted.map((e) => e.id))}
        onReconnect={() => {}}
        onReconnectEnd={(_event, edge, _handle, state) => {
          // An edge end dragged away and dropped on no handle: the dependency is removed.
          if (!readOnly && !state.isValid) props.onDisconnect?.([edge.id]);
        }}
        edgesReconnectable={!readOnly}
        nodesConnectable={!readOnly}
        onPaneClick={() => props.onSelect?.(null)}
        onNodeClick={(_event, node) => props.onSelect?.(node.id)}
        deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        minZoom={0.1}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        {graph.dataEdges.length > 0 ? (
          <Panel position="top-right" className="fe-legend" data-testid="data-edge-legend">
            <span className="fe-legend-dash" aria-hidden="true" /> reads an output without{" "}
            <code>needs</code>
          </Panel>
        ) : null}
        <Controls showInteractive={false} />
        {graph.nodes.length > 40 ? <MiniMap pannable zoomable /> : null}
      </ReactFlow>
    </div>
  );
}
