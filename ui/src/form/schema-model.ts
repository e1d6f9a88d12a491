import type { JsonSchema } from "../api/types.ts";

/**
 * The form generator's model: which JSON Schemas it can draw as fields, their initial
 * values, and validation with messages that name the field. Anything it cannot draw falls
 * back to the raw JSON editor.
 */
export type FieldKind = "object" | "string" | "number" | "integer" | "boolean" | "enum" | "array";

/** What a field holds while its JSON text does not parse (fields the form cannot draw). */
export class InvalidJson {
  readonly text: string;
  readonly reason: string;
  constructor(text: string, reason: string) {
    this.text = text;
    this.reason = reason;
  }
}

/** The schema without a `null` alternative (zod's `.nullable()` / `.optional()` shapes). */
export function simplify(schema: JsonSchema): JsonSchema {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const nonNull = alternatives.filter((s) => s.type !== "null");
    if (nonNull.length === 1 && nonNull[0]) return { ...nonNull[0], ...pick(schema) };
  }
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t) => t !== "null");
    if (types.length === 1) return { ...schema, type: types[0] };
  }
  return schema;
}

function pick(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  if (schema.default !== undefined) out.default = schema.default;
  if (schema.description) out.description = schema.description;
  if (schema.title) out.title = schema.title;
  return out;
}

export function fieldKind(raw: JsonSchema): FieldKind | null {
  const schema = simplify(raw);
  if (schema.enum && schema.enum.length > 0) return "enum";
  switch (schema.type) {
    case "object":
      return schema.properties ? "object" : null;
    case "string":
    case "number":
    case "integer":
    case "boolean":
      return schema.type;
    case "array": {
      const items = schema.items ? simplify(schema.items) : undefined;
      const kind = items ? fieldKind(items) : null;
      return kind && kind !== "object" && kind !== "array" ? "array" : null;
    }
    default:
      return null;
  }
}

/**
 * True when the schema can be a form: an object with properties (fields the generator
 * cannot draw become small JSON editors) or a single drawable value.
 */
export function isFormable(schema: JsonSchema | null | undefined): schema is JsonSchema {
  return Boolean(schema) && fieldKind(schema as JsonSchema) !== null;
}

/** The form's starting value: defaults where given, empty values elsewhere. */
export function initialValue(raw: JsonSchema): unknown {
  const schema = simplify(raw);
  if (schema.default !== undefined) return structuredClone(schema.default);
  switch (fieldKind(schema)) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        const value = initialValue(child);
        if (value !== undefined) out[key] = value;
      }
      return out;
    }
    case "boolean":
      return false;
    case "array":
      return [];
    default:
      return undefined;
  }
}

export interface FieldError {
  /** `items.0.qty`; empty for the root. */
  path: string;
  message: string;
}

/** Checks `value` against the schema's types, required fields, enums, bounds and formats. */
export function validate(raw: JsonSchema, value: unknown, path = ""): FieldError[] {
  const schema = simplify(raw);
  const at = (message: string): FieldError[] => [{ path, message }];
  const kind = fieldKind(schema);
  if (value instanceof InvalidJson) return at(`is not valid JSON: ${value.reason}`);
  if (value === undefined || value === null) return [];
  if (kind === "enum") {
    return schema.enum?.some((e) => e === value)
      ? []
      : at(`must be one of ${schema.enum?.map((e) => JSON.stringify(e)).join(", ")}`);
  }
  switch (schema.type) {
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return at("must be an object");
      const record = value as Record<string, unknown>;
      const errors: FieldError[] = [];
      for (const key of schema.required ?? []) {
        if (record[key] === undefined || record[key] === "") {
          errors.push({ path: join(path, key), message: "is required" });
        }
      }
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        if (record[key] !== undefined && record[key] !== "") {
          errors.push(...validate(child, record[key], join(path, key)));
        }
      }
      return errors;
    }
    case "string": {
      if (typeof value !== "string") return at("must be text");
      if (schema.minLength !== undefined && value.length < schema.minLength)
        return at(
          `must be at least ${schema.minLength} character${schema.minLength === 1 ? "" : "s"}`,
        );
      if (schema.maxLength !== undefined && value.length > schema.maxLength)
        return at(`must be at most ${schema.maxLength} characters`);
      if (schema.format === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
        return at("must be an email address");
      if (schema.pattern && !safeRegExp(schema.pattern)?.test(value))
        return at(`must match ${schema.pattern}`);
      return [];
    }
    case "number":
    case "integer": {
      if (typeof value !== "number" || Number.isNaN(value)) return at("must be a number");
      if (schema.type === "integer" && !Number.isInteger(value))
        return at("must be a whole number");
      if (schema.minimum !== undefined && value < schema.minimum)
        return at(`must be ≥ ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum)
        return at(`must be ≤ ${schema.maximum}`);
      if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
        return at(`must be > ${schema.exclusiveMinimum}`);
      if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum)
        return at(`must be < ${schema.exclusiveMaximum}`);
      return [];
    }
    case "boolean":
      return typeof value === "boolean" ? [] : at("must be true or false");
    case "array": {
      if (!Array.isArray(value)) return at("must be a list");
      if (schema.minItems !== undefined && value.length < schema.minItems)
        return at(`needs at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        return at(`takes at most ${schema.maxItems} items`);
      const items = schema.items;
      return items ? value.flatMap((item, i) => validate(items, item, join(path, String(i)))) : [];
    }
    default:
      return [];
  }
}

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);

function safeRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, "u");
  } catch {
    return undefined;
  }
}

/** Drops empty strings and undefined from an object so optional fields stay absent. */
export function clean(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clean);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || v === "") continue;
      out[k] = clean(v);
    }
    return out;
  }
  return value;
}
