import { createHash } from "node:crypto";
import {
  type CompiledExpression,
  compileExpression,
  expressionsIn,
  isExpression,
} from "../../core/flow/flow-expressions.ts";
import type { FlowDocument } from "../../core/flow/flow-schema.ts";
import { stepExpressions } from "../../core/flow/step-dependencies.ts";

/** A flow version ready to run: its document and every expression compiled once. */
export interface CompiledFlow {
  name: string;
  version: number;
  hash: string;
  document: FlowDocument;
  /** Evaluates a JSON-like value: expressions replaced by their results over `data`. */
  evaluate(value: unknown, data: Record<string, unknown>): Promise<unknown>;
}

/** sha256 of a document's canonical JSON (keys sorted): formatting changes are no new version. */
export function documentHash(document: unknown): string {
  return createHash("sha256").update(canonicalJson(document)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Compiles every expression of a (validated) document. */
export function compileFlow(document: FlowDocument, version: number, hash: string): CompiledFlow {
  const compiled = new Map<string, CompiledExpression>();
  const add = (text: string) => {
    if (!compiled.has(text)) compiled.set(text, compileExpression(text));
  };
  const { steps, triggers: _t, input: _i, ...rest } = document;
  for (const e of expressionsIn(rest, "")) add(e.text);
  steps.forEach((s, i) => {
    for (const e of stepExpressions(s, `steps[${i}]`)) add(e.text);
  });
  const evaluate = async (value: unknown, data: Record<string, unknown>): Promise<unknown> => {
    if (isExpression(value)) {
      const expression = compiled.get(value) ?? compileExpression(value);
      return plain(await expression.evaluate(data));
    }
    if (typeof value === "string" && value.startsWith("==")) return value.slice(1);
    if (Array.isArray(value)) return Promise.all(value.map((v) => evaluate(v, data)));
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = await evaluate(v, data);
      return out;
    }
    return value;
  };
  return { name: document.name, version, hash, document, evaluate };
}

/** JSONata results carry sequence flags and may be `undefined`: make them plain JSON. */
function plain(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value) ?? "null");
}
