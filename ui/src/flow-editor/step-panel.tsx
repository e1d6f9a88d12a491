import { lazy, Suspense, useEffect, useState } from "react";
import { isRecord, scriptLangs } from "./flow-document.ts";
import type { DocPath, FlowGraph, GraphNode } from "./flow-graph.ts";
import { expressionError, type FlowProblem } from "./flow-validate.ts";
import { expressionSuggestions } from "./upstream-steps.ts";

const CodeEditor = lazy(() => import("./code-editor.tsx"));

export interface StepPanelProps {
  graph: FlowGraph;
  node: GraphNode;
  problems: FlowProblem[];
  inputFields: string[];
  readOnly: boolean;
  /** Sets (or with `undefined` removes) a value under the node, by path from the node. */
  onSet: (path: DocPath, value: unknown) => void;
  onRename: (newId: string) => void;
  onDelete: () => void;
}

/** Edits one step: id, what it does, its `with` expressions, condition, timeout and retries. */
export function StepPanel(props: StepPanelProps) {
  const { node, readOnly, onSet } = props;
  const data = node.data;
  const suggestions = expressionSuggestions(props.graph, node.id, props.inputFields);
  const listId = `fe-suggest-${node.id.replace(/[^a-z0-9_-]/gi, "_")}`;

  if (node.type === "case") {
    return (
      <section className="fe-panel" data-testid="step-panel">
        <strong>Branch arm {Number(node.stepId) + 1}</strong>
        {data.else === true ? (
          <p>else: runs when no arm above matched</p>
        ) : (
          <ExpressionField
            label="if"
            value={String(data.if ?? "")}
            listId={listId}
            readOnly={readOnly}
            onChange={(value) => onSet(["if"], value)}
          />
        )}
        <datalist id={listId}>
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      </section>
    );
  }

  const script = isRecord(data.script) ? data.script : undefined;
  const text = (path: DocPath, label: string, value: unknown, testId?: string) => (
    <label>
      {label}
      <input
        data-testid={testId}
        value={value === undefined ? "" : String(value)}
        readOnly={readOnly}
        onChange={(event) =>
          onSet(path, event.target.value === "" ? undefined : event.target.value)
        }
      />
    </label>
  );

  return (
    <section className="fe-panel" data-testid="step-panel">
      <IdField id={node.stepId} readOnly={readOnly} onRename={props.onRename} />
      <div>
        kind: <strong>{node.kind ?? "none"}</strong>
      </div>
      {node.kind === "script" && script ? (
        <>
          <label>
            language
            <select
              data-testid="script-lang"
              value={String(script.lang)}
              disabled={readOnly}
              onChange={(event) => onSet(["script", "lang"], event.target.value)}
            >
              {scriptLangs.map((lang) => (
                <option key={lang}>{lang}</option>
              ))}
            </select>
          </label>
          {script.file !== undefined ? text(["script", "file"], "file", script.file) : null}
          <Suspense fallback={<div>Loading editor…</div>}>
            <CodeEditor
              testId="script-source"
              language={
                (scriptLangs as readonly string[]).includes(String(script.lang))
                  ? (script.lang as "python")
                  : "bash"
              }
              value={String(script.source ?? "")}
              readOnly={readOnly}
              onChange={(value) => onSet(["script", "source"], value)}
            />
          </Suspense>
        </>
      ) : null}
      {node.kind === "action" ? text(["action"], "action", data.action) : null}
      {node.kind === "workflow" ? text(["workflow"], "workflow", data.workflow) : null}
      {node.kind === "sleep" ? text(["sleep"], "sleep (duration)", data.sleep) : null}
      {node.kind === "http" && isRecord(data.http) ? (
        <>
          {text(["http", "method"], "method", data.http.method)}
          {text(["http", "url"], "url", data.http.url)}
        </>
      ) : null}
      {(node.kind === "approval" || node.kind === "waitForEvent") && isRecord(data[node.kind]) ? (
        <>
          {text([node.kind, "event"], "event", (data[node.kind] as Record<string, unknown>).event)}
          {text(
            [node.kind, "timeout"],
            "timeout",
            (data[node.kind] as Record<string, unknown>).timeout,
          )}
        </>
      ) : null}
      {node.kind === "forEach" && isRecord(data.forEach) ? (
        <>
          <ExpressionField
            label="items"
            value={String(data.forEach.items ?? "")}
            listId={listId}
            readOnly={readOnly}
            onChange={(value) => onSet(["forEach", "items"], value)}
          />
          {text(["forEach", "parallelism"], "parallelism", data.forEach.parallelism)}
        </>
      ) : null}
      <WithFields
        value={isRecord(data.with) ? data.with : {}}
        listId={listId}
        readOnly={readOnly}
        onSet={(key, value) => onSet(key === undefined ? ["with"] : ["with", key], value)}
      />
      <ExpressionField
        label="if (skip when false)"
        value={data.if === undefined ? "" : String(data.if)}
        listId={listId}
        readOnly={readOnly}
        onChange={(value) => onSet(["if"], value === "" ? undefined : value)}
      />
      {text(["timeout"], "timeout", data.timeout)}
      <datalist id={listId}>
        {suggestions.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      {props.problems.length > 0 ? (
        <ul className="fe-problems">
          {props.problems.map((p) => (
            <li key={`${p.path}:${p.message}`}>
              {p.path}: {p.message}
            </li>
          ))}
        </ul>
      ) : null}
      {readOnly ? null : (
        <button type="button" data-testid="delete-step" onClick={props.onDelete}>
          Delete step
        </button>
      )}
    </section>
  );
}

function IdField(props: { id: string; readOnly: boolean; onRename: (id: string) => void }) {
  const [draft, setDraft] = useState(props.id);
  useEffect(() => setDraft(props.id), [props.id]);
  const commit = () => {
    if (draft !== props.id && draft !== "") props.onRename(draft);
  };
  return (
    <label>
      id
      <input
        data-testid="step-id"
        value={draft}
        readOnly={props.readOnly}
        onChange={(event) => setDraft(event.target.value)}
        onBlur={commit}
        onKeyDown={(event) => {
          if (event.key === "Enter") commit();
        }}
      />
    </label>
  );
}

/** A value field that checks `=…` JSONata as you type and offers upstream step names. */
function ExpressionField(props: {
  label: string;
  value: string;
  listId: string;
  readOnly: boolean;
  onChange: (value: string) => void;
  testId?: string;
}) {
  const error = expressionError(props.value);
  return (
    <label>
      {props.label}
      <input
        list={props.listId}
        data-testid={props.testId}
        value={props.value}
        readOnly={props.readOnly}
        aria-invalid={error !== undefined}
        onChange={(event) => props.onChange(event.target.value)}
      />
      {error ? <span className="fe-field-error">{error}</span> : null}
    </label>
  );
}

function WithFields(props: {
  value: Record<string, unknown>;
  listId: string;
  readOnly: boolean;
  onSet: (key: string | undefined, value: unknown) => void;
}) {
  const [newKey, setNewKey] = useState("");
  const entries = Object.entries(props.value);
  return (
    <fieldset className="fe-with">
      <legend>with</legend>
      {entries.map(([key, value]) => {
        const textValue = typeof value === "string" ? value : JSON.stringify(value);
        const error = typeof value === "string" ? expressionError(value) : undefined;
        return (
          <div className="fe-with-row" key={key}>
            <code>{key}</code>
            <span>
              <input
                list={props.listId}
                data-testid={`with-${key}`}
                value={textValue}
                readOnly={props.readOnly}
                aria-invalid={error !== undefined}
                onChange={(event) => props.onSet(key, event.target.value)}
              />
              {error ? <span className="fe-field-error">{error}</span> : null}
            </span>
            {props.readOnly ? null : (
              <button
                type="button"
                aria-label={`remove ${key}`}
                onClick={() => props.onSet(entries.length === 1 ? undefined : key, undefined)}
              >
                ×
              </button>
            )}
          </div>
        );
      })}
      {props.readOnly ? null : (
        <div className="fe-with-row">
          <input
            placeholder="name"
            data-testid="with-new-key"
            value={newKey}
            onChange={(event) => setNewKey(event.target.value)}
          />
          <span />
          <button
            type="button"
            disabled={!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newKey) || newKey in props.value}
            onClick={() => {
              props.onSet(newKey, "=");
              setNewKey("");
            }}
          >
            add
          </button>
        </div>
      )}
    </fieldset>
  );
}
