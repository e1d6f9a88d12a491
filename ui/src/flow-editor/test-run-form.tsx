import { useState } from "react";
import type { JsonSchema } from "../api/types.ts";
import { SchemaForm } from "../form/schema-form.tsx";
import { clean, initialValue, isFormable, validate } from "../form/schema-model.ts";

/**
 * The input form of a test run, drawn from the flow's `input` JSON Schema (the same form the
 * workflows page starts runs with); a flow without a schema starts with `{}`.
 */
export function TestRunForm(props: {
  schema: unknown;
  disabled: boolean;
  onStart: (input: unknown) => void;
}) {
  const schema = props.schema as JsonSchema | undefined;
  const formable = isFormable(schema);
  const [value, setValue] = useState<unknown>(() => (formable ? initialValue(schema) : {}));
  const [touched, setTouched] = useState(false);
  const errors = formable && touched ? validate(schema, value) : [];
  return (
    <form
      className="fe-panel"
      data-testid="test-run-form"
      onSubmit={(event) => {
        event.preventDefault();
        setTouched(true);
        if (formable && validate(schema, value).length > 0) return;
        props.onStart(formable ? clean(value) : {});
      }}
    >
      <strong>Test run</strong>
      {formable ? (
        <SchemaForm schema={schema} value={value} onChange={setValue} errors={errors} />
      ) : (
        <p>This flow declares no input schema; it starts with {"{}"}.</p>
      )}
      <button type="submit" disabled={props.disabled} data-testid="start-test-run">
        Start run
      </button>
    </form>
  );
}
