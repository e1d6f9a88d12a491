import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Document } from "yaml";
import { coreProblems, mergeProblems } from "./core-problems.ts";
import { FlowCanvas, paletteMime } from "./flow-canvas.tsx";
import { isRecord, newStepBody, type StepKind, stepKinds } from "./flow-document.ts";
import { type DocPath, documentToGraph, type FlowGraph } from "./flow-graph.ts";
import { type FlowProblem, validateFlow } from "./flow-validate.ts";
import type { NodeRunState } from "./run-states.ts";
import { StepPanel } from "./step-panel.tsx";
import { pushText, redo, startHistory, type TextHistory, undo } from "./text-history.ts";
import {
  addNeed,
  addStep,
  deleteStep,
  freshStepId,
  parseFlowYaml,
  printFlowYaml,
  removeNeed,
  renameStep,
  setIn,
} from "./yaml-edits.ts";

const CodeEditor = lazy(() => import("./code-editor.tsx"));

export interface FlowEditorProps {
  initialText: string;
  readOnly?: boolean;
  /** Problems from the server (a refused deploy), placed on nodes by the page. */
  serverProblems?: (graph: FlowGraph) => FlowProblem[];
  runStates?: Map<string, NodeRunState>;
  /** Called with the current text whenever it changes (the page deploys it). */
  onTextChange?: (text: string) => void;
  /** Extra content of the side column (test-run form, versions). */
  side?: React.ReactNode;
  toolbar?: React.ReactNode;
  onSelectNode?: (nodeId: string | null) => void;
}

const emptyGraph: FlowGraph = {
  nodes: [],
  edges: [],
  dataEdges: [],
  meta: {},
  unresolved: new Map(),
};

/**
 * The flow editor: palette, graph and YAML side by side. The YAML text is the one source of
 * truth; graph gestures and panel edits are edits of its `yaml` Document (comments and key
 * order stay), and the graph is redrawn from the text.
 */
export function FlowEditor(props: FlowEditorProps) {
  const readOnly = props.readOnly ?? false;
  const [history, setHistory] = useState<TextHistory>(() => startHistory(props.initialText));
  const [selected, setSelected] = useState<string | null>(null);
  const text = history.present;

  useEffect(() => {
    setHistory(startHistory(props.initialText));
  }, [props.initialText]);

  const onTextChange = props.onTextChange;
  useEffect(() => onTextChange?.(text), [text, onTextChange]);

  const parsed = useMemo(() => parseFlowYaml(text), [text]);
  // While the YAML does not parse, the last good graph stays on screen.
  const [graph, setGraph] = useState<FlowGraph>(emptyGraph);
  useEffect(() => {
    if (parsed.value) setGraph(documentToGraph(parsed.value));
  }, [parsed]);

  const problems = useMemo(() => {
    const local = mergeProblems(
      parsed.value ? coreProblems(parsed.value, graph) : [],
      validateFlow(graph),
    );
    return mergeProblems(local, props.serverProblems?.(graph) ?? []);
  }, [graph, parsed, props.serverProblems]);

  const commit = useCallback((next: string, origin: string) => {
    setHistory((h) => pushText(h, next, origin, Date.now()));
  }, []);

  /** Applies a Document edit to the current text, with the graph it was made against. */
  const edit = useCallback(
    (change: (doc: Document, graph: FlowGraph) => void) => {
      if (readOnly) return;
      setHistory((h) => {
        const current = parseFlowYaml(h.present);
        if (!current.value) return h;
        change(current.doc, documentToGraph(current.value));
        return pushText(h, printFlowYaml(current.doc), "graph", Date.now());
      });
    },
    [readOnly],
  );

  const select = useCallback(
    (id: string | null) => {
      setSelected(id);
      props.onSelectNode?.(id);
    },
    [props.onSelectNode],
  );

  const textNow = useRef(text);
  textNow.current = text;

  const addKind = useCallback(
    (kind: StepKind, groupId?: string) => {
      const current = parseFlowYaml(textNow.current);
      if (!current.value || readOnly) return;
      const g = documentToGraph(current.value);
      const group = groupId === undefined ? undefined : g.nodes.find((n) => n.id === groupId);
      let stepsPath: DocPath = ["steps"];
      let prefix = "";
      if (group?.kind === "forEach") {
        stepsPath = [...group.path, "forEach", "steps"];
        prefix = `${group.id}/`;
      } else if (group?.kind === "branch") {
        stepsPath = [...group.path, "branch", 0, "steps"];
        prefix = `${group.id}#0/`;
      } else if (group?.type === "case") {
        stepsPath = [...group.path, "steps"];
        prefix = `${group.id}/`;
      }
      const id = freshStepId(g, kind);
      addStep(current.doc, stepsPath, { id, ...newStepBody(kind) });
      commit(printFlowYaml(current.doc), "graph");
      // A new step opens in the panel; a new group does not take the selection, so the next
      // palette click does not land inside it (dropping into a group is by dragging).
      if (kind !== "forEach" && kind !== "branch") select(`${prefix}${id}`);
    },
    [commit, select, readOnly],
  );

  const selectedNode = graph.nodes.find((n) => n.id === selected);
  const inputFields =
    isRecord(graph.meta.input) && isRecord(graph.meta.input.properties)
      ? Object.keys(graph.meta.input.properties)
      : [];

  // Ctrl/⌘+Z and Ctrl/⌘+Y (or Shift+Z) outside text fields, which keep their own undo.
  useEffect(() => {
    if (readOnly) return;
    const onKeyDown = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target?.closest(".cm-editor, input, textarea, select")) return;
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (mod && key === "z") {
        event.preventDefault();
        setHistory((h) => (event.shiftKey ? redo(h) : undo(h)));
      } else if (mod && key === "y") {
        event.preventDefault();
        setHistory(redo);
      }
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [readOnly]);

  return (
    <div data-testid="flow-editor">
      <div className="fe-toolbar">
        {readOnly ? (
          <span className="fe-readonly">read-only</span>
        ) : (
          <>
            <button
              type="button"
              data-testid="undo"
              disabled={history.past.length === 0}
              onClick={() => setHistory(undo)}
            >
              ↶ Undo
            </button>
            <button
              type="button"
              data-testid="redo"
              disabled={history.future.length === 0}
              onClick={() => setHistory(redo)}
            >
              ↷ Redo
            </button>
          </>
        )}
        <span data-testid="problem-count">
          {problems.length === 0
            ? "✓ valid"
            : `${problems.length} problem${problems.length > 1 ? "s" : ""}`}
        </span>
        <span className="fe-spacer" />
        {props.toolbar}
      </div>
      <div className="fe-editor">
        <nav className="fe-palette" aria-label="Step kinds">
          {readOnly
            ? null
            : stepKinds.map((kind) => (
                <button
                  key={kind}
                  type="button"
                  draggable
                  data-testid={`palette-${kind}`}
                  title="Click to add; drag into a forEach or branch to add inside it"
                  onClick={() => addKind(kind, selectedNode?.isGroup ? selectedNode.id : undefined)}
                  onDragStart={(event) => {
                    event.dataTransfer.setData(paletteMime, kind);
                    event.dataTransfer.effectAllowed = "copy";
                  }}
                >
                  + {kind}
                </button>
              ))}
        </nav>
        <FlowCanvas
          graph={graph}
          problems={problems}
          {...(props.runStates ? { runStates: props.runStates } : {})}
          readOnly={readOnly}
          selected={selected}
          onSelect={select}
          onConnect={(source, target) =>
            edit((doc, g) => {
              const s = g.nodes.find((n) => n.id === source);
              const t = g.nodes.find((n) => n.id === target);
              if (s && t && t.type === "step") addNeed(doc, t.path, s.stepId);
            })
          }
          onDisconnect={(edgeIds) =>
            edit((doc, g) => {
              for (const id of edgeIds) {
                const e = g.edges.find((candidate) => candidate.id === id);
                const s = g.nodes.find((n) => n.id === e?.source);
                const t = g.nodes.find((n) => n.id === e?.target);
                if (s && t) removeNeed(doc, t.path, s.stepId);
              }
            })
          }
          onDeleteNodes={(ids) =>
            edit((doc, g) => {
              // Deepest and last first, so earlier paths stay valid.
              const nodes = g.nodes.filter((n) => ids.includes(n.id)).reverse();
              for (const n of nodes) deleteStep(doc, g, n.id);
            })
          }
          onDropKind={(kind, groupId) => addKind(kind, groupId)}
        />
        <div className="fe-side">
          {selectedNode ? (
            <StepPanel
              key={selectedNode.id}
              graph={graph}
              node={selectedNode}
              problems={problems.filter((p) => p.nodeId === selectedNode.id)}
              inputFields={inputFields}
              readOnly={readOnly}
              onSet={(path, value) =>
                edit((doc) => setIn(doc, [...selectedNode.path, ...path], value))
              }
              onRename={(newId) => {
                edit((doc, g) => renameStep(doc, g, selectedNode.id, newId));
                select(selectedNode.id.replace(/[^/#]+$/, newId));
              }}
              onDelete={() => {
                edit((doc, g) => deleteStep(doc, g, selectedNode.id));
                select(null);
              }}
            />
          ) : null}
          {props.side}
          {parsed.errors.length > 0 ? (
            <ul className="fe-problems" data-testid="yaml-errors">
              {parsed.errors.map((e) => (
                <li key={`${e.line}:${e.message}`}>
                  line {e.line}: {e.message}
                </li>
              ))}
            </ul>
          ) : null}
          {problems.length > 0 ? (
            <ul className="fe-problems" data-testid="problems">
              {problems.map((p) => (
                <li key={`${p.nodeId}:${p.path}:${p.message}`}>
                  {p.path}: {p.message}
                </li>
              ))}
            </ul>
          ) : null}
          <Suspense fallback={<pre>{text}</pre>}>
            <CodeEditor
              testId="yaml-editor"
              className="fe-yaml"
              language="yaml"
              value={text}
              readOnly={readOnly}
              errorLines={parsed.errors.map((e) => e.line)}
              onChange={(next) => commit(next, "yaml")}
            />
          </Suspense>
        </div>
      </div>
    </div>
  );
}
