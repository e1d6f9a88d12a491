import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useNavigate } from "react-router";
import { api } from "../api/client.ts";
import type { Run, Workflow } from "../api/types.ts";
import { ErrorState } from "../components/states.tsx";
import { SchemaForm } from "../form/schema-form.tsx";
import {
  clean,
  type FieldError,
  initialValue,
  isFormable,
  validate,
} from "../form/schema-model.ts";
import { formatJson } from "../lib/format.ts";

/**
 * Starts a run of `workflow`: a form generated from its input schema (or raw JSON), checked
 * in the browser first, then by the server; the new run opens.
 */
export function StartRunForm({ workflow }: { workflow: Workflow }) {
  const schema = workflow.inputSchema ?? null;
  const formable = isFormable(schema);
  const [mode, setMode] = useState<"form" | "json">(formable ? "form" : "json");
  const [value, setValue] = useState<unknown>(() => (schema ? initialValue(schema) : {}));
  const [text, setText] = useState(() =>
    formatJson(schema ? (clean(initialValue(schema)) ?? {}) : {}),
  );
  const [runId, setRunId] = useState("");
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [serverError, setServerError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const client = useQueryClient();

  const switchMode = (next: "form" | "json") => {
    if (next === mode) return;
    setErrors([]);
    if (next === "json") setText(formatJson(clean(value) ?? null));
    else {
      try {
        setValue(JSON.parse(text));
      } catch {
        setErrors([
          { path: "", message: "The JSON does not parse; fix it before switching to the form." },
        ]);
        return;
      }
    }
    setMode(next);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setServerError(null);
    let input: unknown;
    if (mode === "json") {
      try {
        input = text.trim() === "" ? undefined : JSON.parse(text);
      } catch (e) {
        setErrors([{ path: "", message: `Not valid JSON: ${(e as Error).message}` }]);
        return;
      }
    } else {
      input = value;
    }
    const found = schema ? validate(schema, input) : [];
    setErrors(found);
    if (found.length > 0) return;
    setBusy(true);
    try {
      const run = await api<Run>("/api/v1/runs", {
        method: "POST",
        body: {
          workflow: workflow.name,
          ...(input === undefined ? {} : { input: clean(input) }),
          ...(runId.trim() ? { id: runId.trim() } : {}),
        },
      });
      client.setQueryData(["run", run.id], run);
      void client.invalidateQueries({ queryKey: ["runs"] });
      void navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (e) {
      setServerError(e);
      setBusy(false);
    }
  };

  return (
    <form className="start-form" onSubmit={submit} noValidate aria-label={`Start ${workflow.name}`}>
      {formable ? (
        <fieldset className="segmented">
          <legend className="sr-only">Input editor</legend>
          <button type="button" aria-pressed={mode === "form"} onClick={() => switchMode("form")}>
            Form
          </button>
          <button type="button" aria-pressed={mode === "json"} onClick={() => switchMode("json")}>
            JSON
          </button>
        </fieldset>
      ) : (
        <p className="small muted">
          {schema
            ? "This input schema is edited as JSON."
            : "No input schema: any JSON value is accepted."}
        </p>
      )}
      {errors.length > 0 ? (
        <div className="alert alert-error" role="alert">
          <p className="alert-title">Fix the input before starting:</p>
          <ul>
            {errors.map((e) => (
              <li key={`${e.path}:${e.message}`}>
                {e.path === "" ? "input" : <code>{e.path}</code>} {e.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {mode === "form" && schema ? (
        <SchemaForm schema={schema} value={value} onChange={setValue} errors={errors} />
      ) : (
        <label className="field">
          <span className="field-label">Input (JSON)</span>
          <textarea
            className="code-input"
            rows={12}
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </label>
      )}
      <label className="field">
        <span className="field-label">Run id (optional)</span>
        <input
          type="text"
          value={runId}
          placeholder="generated when empty; a taken id returns that run"
          onChange={(e) => setRunId(e.target.value)}
        />
      </label>
      {serverError ? <ErrorState error={serverError} /> : null}
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? "Starting…" : "Start run"}
      </button>
    </form>
  );
}
