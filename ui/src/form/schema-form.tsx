import { type ReactNode, useId, useState } from "react";
import type { JsonSchema } from "../api/types.ts";
import { formatJson } from "../lib/format.ts";
import { type FieldError, fieldKind, InvalidJson, simplify } from "./schema-model.ts";

interface FieldProps {
  schema: JsonSchema;
  value: unknown;
  onChange: (value: unknown) => void;
  path: string;
  label: string;
  required: boolean;
  errors: readonly FieldError[];
}

/** A form drawn from a JSON Schema: one control per field, errors under their fields. */
export function SchemaForm(props: {
  schema: JsonSchema;
  value: unknown;
  onChange: (value: unknown) => void;
  errors: readonly FieldError[];
}) {
  return (
    <Field
      schema={props.schema}
      value={props.value}
      onChange={props.onChange}
      path=""
      label="Input"
      required
      errors={props.errors}
    />
  );
}

function Field(props: FieldProps) {
  const schema = simplify(props.schema);
  const kind = fieldKind(schema);
  if (kind === "object") return <ObjectField {...props} schema={schema} />;
  if (kind === null) return <JsonField {...props} schema={schema} />;
  return <ScalarField {...props} schema={schema} kind={kind} />;
}

function ObjectField({ schema, value, onChange, path, label, errors }: FieldProps) {
  const record = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([key, child]) => (
    <Field
      key={key}
      schema={child}
      value={record[key]}
      onChange={(next) => onChange({ ...record, [key]: next })}
      path={path === "" ? key : `${path}.${key}`}
      label={child.title ?? key}
      required={required.has(key)}
      errors={errors}
    />
  ));
  if (path === "") return <div className="form-fields">{fields}</div>;
  return (
    <fieldset className="fieldset">
      <legend>{label}</legend>
      {fields}
    </fieldset>
  );
}

function errorFor(errors: readonly FieldError[], path: string): string | undefined {
  return errors.find((e) => e.path === path)?.message;
}

function Label({
  label,
  required,
  htmlFor,
}: {
  label: string;
  required: boolean;
  htmlFor: string;
}) {
  return (
    <label className="field-label" htmlFor={htmlFor}>
      {label}
      {required ? (
        <span className="required" aria-hidden="true">
          {" "}
          *
        </span>
      ) : null}
    </label>
  );
}

function Help({ schema, error, id }: { schema: JsonSchema; error?: string; id: string }) {
  return (
    <>
      {schema.description ? <p className="field-help">{schema.description}</p> : null}
      {error ? (
        <p className="field-error" id={id}>
          {error}
        </p>
      ) : null}
    </>
  );
}

function ScalarField({
  schema,
  value,
  onChange,
  path,
  label,
  required,
  errors,
  kind,
}: FieldProps & { kind: "string" | "number" | "integer" | "boolean" | "enum" | "array" }) {
  const id = useId();
  const errorId = `${id}-error`;
  const error = errorFor(errors, path);
  const aria = {
    id,
    name: path,
    "aria-invalid": error !== undefined,
    "aria-describedby": error ? errorId : undefined,
    "aria-required": required,
  };
  let control: ReactNode;
  switch (kind) {
    case "boolean":
      return (
        <div className="field field-check">
          <label className="check">
            <input
              type="checkbox"
              {...aria}
              checked={value === true}
              onChange={(e) => onChange(e.target.checked)}
            />
            {label}
          </label>
          <Help schema={schema} error={error} id={errorId} />
        </div>
      );
    case "enum":
      control = (
        <select
          {...aria}
          value={value === undefined ? "" : JSON.stringify(value)}
          onChange={(e) => onChange(e.target.value === "" ? undefined : JSON.parse(e.target.value))}
        >
          <option value="">{required ? "Choose…" : "(none)"}</option>
          {(schema.enum ?? []).map((option) => (
            <option key={JSON.stringify(option)} value={JSON.stringify(option)}>
              {String(option)}
            </option>
          ))}
        </select>
      );
      break;
    case "number":
    case "integer":
      control = (
        <input
          type="number"
          inputMode={kind === "integer" ? "numeric" : "decimal"}
          step={kind === "integer" ? 1 : "any"}
          {...aria}
          value={typeof value === "number" ? String(value) : ""}
          onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))}
        />
      );
      break;
    case "array":
      control = (
        <ArrayControl
          schema={schema}
          value={Array.isArray(value) ? value : []}
          onChange={onChange}
          label={label}
        />
      );
      break;
    default:
      control = (
        <input
          type="text"
          {...aria}
          value={typeof value === "string" ? value : ""}
          placeholder={schema.format === "email" ? "name@example.com" : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }
  return (
    <div className="field">
      {kind === "array" ? (
        <span className="field-label" id={id}>
          {label}
          {required ? <span className="required"> *</span> : null}
        </span>
      ) : (
        <Label label={label} required={required} htmlFor={id} />
      )}
      {control}
      <Help schema={schema} error={error} id={errorId} />
    </div>
  );
}

/** A list of primitive values: one input per item, add and remove buttons. */
function ArrayControl({
  schema,
  value,
  onChange,
  label,
}: {
  schema: JsonSchema;
  value: unknown[];
  onChange: (value: unknown) => void;
  label: string;
}) {
  const items = simplify(schema.items ?? {});
  const kind = fieldKind(items);
  const parse = (text: string) =>
    kind === "number" || kind === "integer" ? (text === "" ? undefined : Number(text)) : text;
  return (
    <div className="array-field">
      {value.map((item, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: items have no identity but their place
        <div key={i} className="array-item">
          {kind === "enum" ? (
            <select
              aria-label={`${label} item ${i + 1}`}
              value={JSON.stringify(item)}
              onChange={(e) =>
                onChange(value.map((v, j) => (j === i ? JSON.parse(e.target.value) : v)))
              }
            >
              {(items.enum ?? []).map((o) => (
                <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
                  {String(o)}
                </option>
              ))}
            </select>
          ) : kind === "boolean" ? (
            <input
              type="checkbox"
              aria-label={`${label} item ${i + 1}`}
              checked={item === true}
              onChange={(e) => onChange(value.map((v, j) => (j === i ? e.target.checked : v)))}
            />
          ) : (
            <input
              type={kind === "number" || kind === "integer" ? "number" : "text"}
              aria-label={`${label} item ${i + 1}`}
              value={item === undefined ? "" : String(item)}
              onChange={(e) => onChange(value.map((v, j) => (j === i ? parse(e.target.value) : v)))}
            />
          )}
          <button
            type="button"
            className="btn btn-ghost btn-small"
            aria-label={`Remove ${label} item ${i + 1}`}
            onClick={() => onChange(value.filter((_, j) => j !== i))}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        className="btn btn-small"
        onClick={() =>
          onChange([
            ...value,
            kind === "boolean" ? false : kind === "enum" ? items.enum?.[0] : undefined,
          ])
        }
      >
        Add {label} item
      </button>
    </div>
  );
}

/** A field the generator cannot draw (nested lists, unions): edited as JSON. */
function JsonField({ schema, value, onChange, path, label, required, errors }: FieldProps) {
  const id = useId();
  const [text, setText] = useState(() =>
    value instanceof InvalidJson ? value.text : value === undefined ? "" : formatJson(value),
  );
  const error = errorFor(errors, path);
  return (
    <div className="field">
      <Label label={`${label} (JSON)`} required={required} htmlFor={id} />
      <textarea
        id={id}
        name={path}
        className="code-input"
        rows={Math.min(10, Math.max(3, text.split("\n").length))}
        spellCheck={false}
        value={text}
        aria-invalid={error !== undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => {
          const next = e.target.value;
          setText(next);
          if (next.trim() === "") return onChange(undefined);
          try {
            onChange(JSON.parse(next));
          } catch (err) {
            onChange(new InvalidJson(next, (err as Error).message));
          }
        }}
      />
      <Help schema={schema} error={error} id={`${id}-error`} />
    </div>
  );
}
