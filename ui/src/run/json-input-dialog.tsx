import { useState } from "react";
import { Dialog } from "../components/dialog.tsx";
import { ErrorState } from "../components/states.tsx";
import { formatJson } from "../lib/format.ts";

/**
 * Asks for a JSON value (an edited input) and hands it to `submit`; a parse error is shown
 * under the editor with its position, before anything is sent.
 */
export function JsonInputDialog({
  title,
  intro,
  initial,
  optional,
  confirmLabel,
  onClose,
  submit,
}: {
  title: string;
  intro: string;
  initial: unknown;
  /** The value may be left out entirely (a checkbox turns the editor on). */
  optional?: boolean;
  confirmLabel: string;
  onClose: () => void;
  submit: (value: unknown | undefined) => Promise<void>;
}) {
  const [text, setText] = useState(formatJson(initial ?? null));
  const [editing, setEditing] = useState(!optional);
  const [parseError, setParseError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const confirm = async () => {
    let value: unknown | undefined;
    if (editing) {
      try {
        value = JSON.parse(text);
      } catch (e) {
        setParseError(`Not valid JSON: ${(e as Error).message}`);
        return;
      }
    }
    setParseError(null);
    setBusy(true);
    try {
      await submit(value);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="btn btn-primary"
            disabled={busy}
            onClick={() => void confirm()}
          >
            {busy ? "Starting…" : confirmLabel}
          </button>
        </>
      }
    >
      <p>{intro}</p>
      {optional ? (
        <label className="check">
          <input type="checkbox" checked={editing} onChange={(e) => setEditing(e.target.checked)} />
          Use an edited input
        </label>
      ) : null}
      {editing ? (
        <label className="field">
          <span className="field-label">Input (JSON)</span>
          <textarea
            className="code-input"
            rows={12}
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-invalid={parseError !== null}
          />
        </label>
      ) : null}
      {parseError ? (
        <p className="field-error" role="alert">
          {parseError}
        </p>
      ) : null}
      {error ? <ErrorState error={error} /> : null}
    </Dialog>
  );
}
