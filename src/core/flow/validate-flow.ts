import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { toMs } from "../duration.ts";
import {
  compileExpression,
  expressionsIn,
  isExpression,
  plainInputPath,
  stepReferences,
} from "./flow-expressions.ts";
import {
  type FlowDocument,
  type FlowStep,
  flowDocumentSchema,
  type ScriptLanguage,
  stepKinds,
} from "./flow-schema.ts";
import { compileInputSchema } from "./input-validator.ts";
import { stepDependencies } from "./step-dependencies.ts";

export interface ValidateFlowOptions {
  /** True when a script file exists (paths are as written, relative to the flow file). */
  fileExists?: (path: string) => boolean;
  /** True when this machine can run scripts of the language (its interpreter is found). */
  interpreterAvailable?: (lang: ScriptLanguage) => boolean;
}

export type FlowValidation =
  | { ok: true; document: FlowDocument; format: "yaml" | "json" }
  | { ok: false; errors: string[] };

/** `steps[3].needs` from zod's `["steps", 3, "needs"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out || "(document)";
}

/** Parses a YAML or JSON text into a value; JSON when it starts with `{`. */
export function parseFlowText(
  text: string,
): { ok: true; value: unknown; format: "yaml" | "json" } | { ok: false; errors: string[] } {
  const trimmed = text.trimStart();
  const format = trimmed.startsWith("{") ? "json" : "yaml";
  try {
    const value = format === "json" ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
    return { ok: true, value, format };
  } catch (error) {
    return { ok: false, errors: [`(document): not valid ${format}: ${(error as Error).message}`] };
  }
}

/** Parses and checks a flow document's text: every error found, each naming its path. */
export function validateFlowText(text: string, options: ValidateFlowOptions = {}): FlowValidation {
  const parsed = parseFlowText(text);
  if (!parsed.ok) return parsed;
  const result = validateFlow(parsed.value, options);
  return result.ok ? { ...result, format: parsed.format } : result;
}

/** Checks a parsed flow document against the schema, then the rules a schema cannot say. */
export function validateFlow(
  value: unknown,
  options: ValidateFlowOptions = {},
): { ok: true; document: FlowDocument; format: "json" } | { ok: false; errors: string[] } {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, errors: ["(document): a flow is an object with `name` and `steps`"] };
  }
  const shape = flowDocumentSchema.safeParse(value);
  if (!shape.success) return { ok: false, errors: zodErrors(shape.error) };
  const errors = semanticErrors(shape.data, options);
  return errors.length > 0
    ? { ok: false, errors }
    : { ok: true, document: shape.data, format: "json" };
}

function zodErrors(error: z.ZodError): string[] {
  const out: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === "invalid_union" && "errors" in issue && issue.errors.length > 0) {
      // Report the alternative that got furthest rather than "invalid input".
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      for (const inner of best) {
        out.push(`${formatPath([...issue.path, ...inner.path])}: ${inner.message}`);
      }
      continue;
    }
    if (issue.code === "unrecognized_keys") {
      out.push(
        `${formatPath(issue.path)}: unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")}`,
      );
      continue;
    }
    out.push(`${formatPath(issue.path)}: ${issue.message}`);
  }
  return out;
}

interface Scope {
  /** Ids visible from outside this scope's steps (enclosing steps' upstream). */
  outer: Set<string>;
}

function semanticErrors(doc: FlowDocument, options: ValidateFlowOptions): string[] {
  const errors: string[] = [];
  const seen = new Map<string, string>();
  const allIds = new Set<string>();
  const expr = (path: string, text: string, visible: Set<string> | undefined, what = "") => {
    let compiled: ReturnType<typeof compileExpression>;
    try {
      compiled = compileExpression(text);
    } catch (error) {
      const e = error as { message: string; position?: number };
      errors.push(
        `${path}: cannot parse expression ${JSON.stringify(text)}: ${e.message}${e.position === undefined ? "" : ` (at character ${e.position})`}`,
      );
      return;
    }
    if (!visible) return;
    for (const ref of stepReferences(compiled)) {
      if (visible.has(ref)) continue;
      const hint = allIds.has(ref)
        ? `step "${ref}" is not upstream${what} (it is inside another step's forEach or branch)`
        : `unknown step "${ref}"${[...allIds].some((id) => id.startsWith(`${ref}-`)) ? " (quote ids with '-' in backticks: steps.`my-step`)" : ""}`;
      errors.push(`${path}: ${hint}`);
    }
  };
  const exprsIn = (value: unknown, path: string, visible: Set<string> | undefined) => {
    for (const e of expressionsIn(value, path)) expr(e.path, e.text, visible);
  };
  const duration = (value: unknown, path: string) => {
    if (value === undefined || isExpression(value)) return;
    try {
      toMs(value as never, "duration");
    } catch (error) {
      errors.push(`${path}: ${(error as Error).message}`);
    }
  };

  // Ids are unique across the whole document: expressions name steps without scoping.
  const collect = (steps: FlowStep[], base: string) => {
    steps.forEach((step, i) => {
      const path = `${base}[${i}]`;
      const first = seen.get(step.id);
      if (first) errors.push(`${path}.id: duplicate step id "${step.id}" (first at ${first})`);
      else seen.set(step.id, path);
      allIds.add(step.id);
      if (step.forEach) collect(step.forEach.steps, `${path}.forEach.steps`);
      step.branch?.forEach((b, k) => {
        collect(b.steps, `${path}.branch[${k}].steps`);
      });
    });
  };
  collect(doc.steps, "steps");

  const checkScope = (steps: FlowStep[], base: string, scope: Scope) => {
    const ids = new Map(steps.map((s, i) => [s.id, i]));
    const siblings = new Set(ids.keys());
    const graph = steps.map((s) => ({ ...s, needs: stepDependencies(s, siblings) }));
    steps.forEach((step, i) => {
      for (const need of step.needs ?? []) {
        if (!ids.has(need)) {
          const where = allIds.has(need)
            ? ` (it is in another scope: \`needs\` names siblings)`
            : "";
          errors.push(`${base}[${i}].needs: unknown step "${need}"${where}`);
        }
      }
    });
    const cycle = findCycle(graph);
    if (cycle) {
      errors.push(`${base}: cycle: ${cycle.join(" → ")}`);
      return;
    }
    steps.forEach((step, i) => {
      const path = `${base}[${i}]`;
      const upstream = new Set(scope.outer);
      for (const id of ancestors(step.id, graph)) upstream.add(id);
      checkStep(step, path, upstream);
    });
  };

  const checkStep = (step: FlowStep, path: string, upstream: Set<string>) => {
    const kinds = stepKinds.filter((k) => step[k] !== undefined);
    if (kinds.length === 0) {
      errors.push(`${path}: a step needs one of ${stepKinds.join(", ")}`);
    } else if (kinds.length > 1) {
      errors.push(`${path}: a step has one kind, found ${kinds.join(" and ")}`);
    }
    if (typeof step.if === "string") {
      if (isExpression(step.if)) expr(`${path}.if`, step.if, upstream);
      else errors.push(`${path}.if: expected an expression starting with '=' or a boolean`);
    }
    exprsIn(step.with, `${path}.with`, upstream);
    duration(step.timeout, `${path}.timeout`);
    duration(step.sleep, `${path}.sleep`);
    if (typeof step.sleep === "string" && isExpression(step.sleep)) {
      expr(`${path}.sleep`, step.sleep, upstream);
    }
    if (step.script) {
      const { source, file, lang } = step.script;
      if ((source === undefined) === (file === undefined)) {
        errors.push(`${path}.script: give either \`source\` or \`file\``);
      }
      if (file !== undefined && options.fileExists && !options.fileExists(file)) {
        errors.push(`${path}.script.file: no such file "${file}"`);
      }
      if (options.interpreterAvailable && !options.interpreterAvailable(lang)) {
        errors.push(`${path}.script.lang: no ${lang} interpreter found on this machine`);
      }
    }
    if (step.http) exprsIn(step.http, `${path}.http`, upstream);
    for (const kind of ["approval", "waitForEvent"] as const) {
      const wait = step[kind];
      if (!wait) continue;
      exprsIn(wait.match, `${path}.${kind}.match`, upstream);
      duration(wait.timeout, `${path}.${kind}.timeout`);
    }
    if (step.forEach) {
      exprsIn(step.forEach.items, `${path}.forEach.items`, upstream);
      checkScope(step.forEach.steps, `${path}.forEach.steps`, { outer: upstream });
    }
    if (step.branch) {
      step.branch.forEach((b, k) => {
        const bp = `${path}.branch[${k}]`;
        if (b.else && b.if !== undefined)
          errors.push(`${bp}: a branch has \`if\` or \`else\`, not both`);
        if (!b.else && b.if === undefined)
          errors.push(`${bp}: a branch needs \`if\` (or \`else: true\`)`);
        if (b.else && k !== (step.branch?.length ?? 0) - 1)
          errors.push(`${bp}: \`else\` must be the last branch`);
        if (typeof b.if === "string") expr(`${bp}.if`, b.if, upstream);
        checkScope(b.steps, `${bp}.steps`, { outer: upstream });
      });
    }
  };

  checkScope(doc.steps, "steps", { outer: new Set() });

  const top = new Set(doc.steps.map((s) => s.id));
  exprsIn(doc.output, "output", top);
  if (doc.onFailure) exprsIn(doc.onFailure.with, "onFailure.with", allIds);
  for (const [option, key] of [
    ["concurrency", doc.concurrency?.key],
    ["rateLimit", doc.rateLimit?.key],
    ["debounce", doc.debounce?.key],
    ["idempotency", doc.idempotency?.key],
    ["priority", typeof doc.priority === "string" ? doc.priority : undefined],
  ] as const) {
    if (key !== undefined && !plainInputPath(key)) {
      errors.push(
        `${option}${option === "priority" ? "" : ".key"}: expected a path into the input such as "=input.userId"`,
      );
    }
  }
  duration(doc.timeout, "timeout");
  duration(doc.rateLimit?.period, "rateLimit.period");
  duration(doc.debounce?.period, "debounce.period");
  duration(doc.idempotency?.ttl, "idempotency.ttl");
  doc.triggers?.forEach((t, i) => {
    if ("event" in t && t.if !== undefined) {
      try {
        compileExpression(`=${t.if.replace(/^=/, "")}`);
      } catch (error) {
        errors.push(`triggers[${i}].if: cannot parse expression: ${(error as Error).message}`);
      }
    }
  });
  if (doc.input) {
    try {
      compileInputSchema(doc.input);
    } catch (error) {
      errors.push(`input: ${(error as Error).message}`);
    }
  }
  return errors;
}

/** A cycle among sibling steps as `[a, b, a]`, or undefined. */
export function findCycle(steps: readonly FlowStep[]): string[] | undefined {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === "done") return undefined;
    if (state.get(id) === "visiting") return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, "visiting");
    stack.push(id);
    for (const need of byId.get(id)?.needs ?? []) {
      if (!byId.has(need)) continue;
      const found = visit(need);
      if (found) return found;
    }
    stack.pop();
    state.set(id, "done");
    return undefined;
  };
  for (const step of steps) {
    const found = visit(step.id);
    // Shown in the direction the work flows: a → b means b needs a.
    if (found) return found.reverse();
  }
  return undefined;
}

/** Every step `id` transitively needs, within its own list. */
export function ancestors(id: string, steps: readonly FlowStep[]): Set<string> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const out = new Set<string>();
  const todo = [...(byId.get(id)?.needs ?? [])];
  while (todo.length > 0) {
    const next = todo.pop() as string;
    if (out.has(next) || !byId.has(next)) continue;
    out.add(next);
    todo.push(...(byId.get(next)?.needs ?? []));
  }
  return out;
}
