import { autocompletion, type CompletionSource } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import {
  defaultHighlightStyle,
  type LanguageSupport,
  StreamLanguage,
  syntaxHighlighting,
} from "@codemirror/language";
import { Annotation, Compartment, EditorState, type Extension } from "@codemirror/state";
import { EditorView, keymap, lineNumbers } from "@codemirror/view";
import { useEffect, useRef } from "react";

/** Languages the editor highlights: the script languages, and YAML for the document. */
export type CodeLanguage = "python" | "bash" | "typescript" | "javascript" | "yaml";

async function languageExtension(lang: CodeLanguage): Promise<Extension> {
  switch (lang) {
    case "python":
      return ((await import("@codemirror/lang-python")).python() as LanguageSupport).extension;
    case "typescript":
      return (await import("@codemirror/lang-javascript")).javascript({ typescript: true });
    case "javascript":
      return (await import("@codemirror/lang-javascript")).javascript();
    case "bash":
      return StreamLanguage.define((await import("@codemirror/legacy-modes/mode/shell")).shell);
    case "yaml":
      return StreamLanguage.define((await import("@codemirror/legacy-modes/mode/yaml")).yaml);
  }
}

export interface CodeEditorProps {
  value: string;
  onChange?: (value: string) => void;
  language: CodeLanguage;
  readOnly?: boolean;
  completions?: CompletionSource;
  testId?: string;
  className?: string;
  /** Lines to mark (1-based), as the YAML panel marks syntax errors. */
  errorLines?: number[];
}

/**
 * CodeMirror 6 with highlighting for one language. A default export so pages can load it with
 * `React.lazy`: CodeMirror stays out of every bundle until an editor opens.
 */
export default function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const language = useRef(new Compartment());
  const editable = useRef(new Compartment());
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  // The view is made once; value, language and readOnly are synced by the effects below.
  // biome-ignore lint/correctness/useExhaustiveDependencies: made once on mount
  useEffect(() => {
    if (!host.current) return;
    const extensions: Extension[] = [
      lineNumbers(),
      history(),
      keymap.of([...defaultKeymap, ...historyKeymap]),
      syntaxHighlighting(defaultHighlightStyle),
      language.current.of([]),
      editable.current.of(EditorState.readOnly.of(props.readOnly ?? false)),
      EditorView.lineWrapping,
      EditorView.updateListener.of((update) => {
        // Changes we made from props (remote) are not echoed back.
        if (update.docChanged && !update.transactions.some((t) => t.annotation(remote))) {
          onChange.current?.(update.state.doc.toString());
        }
      }),
    ];
    if (props.completions) extensions.push(autocompletion({ override: [props.completions] }));
    view.current = new EditorView({
      parent: host.current,
      state: EditorState.create({ doc: props.value, extensions }),
    });
    return () => {
      view.current?.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    let cancelled = false;
    void languageExtension(props.language).then((extension) => {
      if (!cancelled) view.current?.dispatch({ effects: language.current.reconfigure(extension) });
    });
    return () => {
      cancelled = true;
    };
  }, [props.language]);

  useEffect(() => {
    view.current?.dispatch({
      effects: editable.current.reconfigure(EditorState.readOnly.of(props.readOnly ?? false)),
    });
  }, [props.readOnly]);

  useEffect(() => {
    const current = view.current;
    if (!current) return;
    const text = current.state.doc.toString();
    if (text === props.value) return;
    current.dispatch({
      changes: { from: 0, to: text.length, insert: props.value },
      annotations: remote.of(true),
    });
  }, [props.value]);

  return (
    <div
      ref={host}
      className={props.className ?? "fe-code"}
      data-testid={props.testId}
      data-error-lines={props.errorLines?.join(",")}
    />
  );
}

/** Marks a transaction that came from props, not from typing. */
const remote = Annotation.define<boolean>();
