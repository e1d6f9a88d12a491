import { useState } from "react";
import type { StepTestSample } from "./step-test-sample.ts";

/** The last test run of a step, as the page follows it live. */
export interface StepTestResult {
  status: string;
  output?: unknown;
  error?: { message: string } | null;
}

/**
 * "Test this step": the sample data the step's expressions will see (flow input, outputs of
 * the steps it reads, `item`/`index` in a forEach) as JSON to edit, and the last result.
 */
export function StepTestForm(props: {
  stepId: string;
  initial: StepTestSample;
  disabled: boolean;
  result: StepTestResult | null;
  onStart: (sample: unknown) => void;
}) {
  const [text, setText] = useState(() => JSON.stringify(props.initial, null, 2));
  const [error, setError] = useState<string | null>(null);
  const { result } = props;
  return (
    <form
      className="fe-panel"
      data-testid="step-test-form"
      onSubmit={(event) => {
        event.preventDefault();
        let sample: unknown;
        try {
          sample = JSON.parse(text);
        } catch (thrown) {
          setError(`Not JSON: ${(thrown as Error).message}`);
          return;
        }
        setError(null);
        props.onStart(sample);
      }}
    >
      <strong>Test step {props.stepId}</strong>
      <label>
        Sample data (what its expressions read)
        <textarea
          data-testid="step-test-sample"
          className="fe-sample"
          rows={Math.min(12, text.split("\n").length + 1)}
          value={text}
          spellCheck={false}
          onChange={(event) => setText(event.target.value)}
        />
      </label>
      {error ? <span className="fe-field-error">{error}</span> : null}
      <button type="submit" disabled={props.disabled} data-testid="start-step-test">
        Run this step
      </button>
      {result ? (
        <div data-testid="step-test-result" data-status={result.status}>
          <span>Test run {result.status}</span>
          {result.status === "completed" ? (
            <pre data-testid="step-test-output">{JSON.stringify(result.output, null, 2)}</pre>
          ) : null}
          {result.error ? <pre className="fe-field-error">{result.error.message}</pre> : null}
        </div>
      ) : null}
    </form>
  );
}
