import jsonata from "jsonata";

/** A string starting with `=` is a JSONata expression; `==` escapes a literal leading `=`. */
export function isExpression(value: unknown): value is string {
  return typeof value === "string" && value.startsWith("=") && !value.startsWith("==");
}

export type CompiledExpression = ReturnType<typeof jsonata>;

/** Parses an expression's text (without its `=`); throws with JSONata's message and position. */
export function compileExpression(text: string): CompiledExpression {
  return jsonata(text.slice(1));
}

/** Every expression string inside a JSON-like value, with its path below `base`. */
export function expressionsIn(value: unknown, base: string): { path: string; text: string }[] {
  if (isExpression(value)) return [{ path: base, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => expressionsIn(v, `${base}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => expressionsIn(v, `${base}.${k}`));
  }
  return [];
}

/**
 * The step ids an expression reads as `steps.<id>` (the first name after `steps` in a path).
 * A hyphenated id must be quoted in backticks (`steps.\`per-order\``): JSONata reads `-` as minus.
 */
export function stepReferences(compiled: CompiledExpression): string[] {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    const n = node as { type?: string; steps?: { type?: string; value?: unknown }[] };
    if (n.type === "path" && Array.isArray(n.steps)) {
      const [first, second] = n.steps;
      if (first?.type === "name" && first.value === "steps" && second?.type === "name") {
        found.add(String(second.value));
      }
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(compiled.ast());
  return [...found];
}

/** A plain path such as `=input.user.id`, which flow-control keys use (they are computed synchronously). */
export function plainInputPath(text: string): string[] | undefined {
  const match = /^=\s*input((?:\.[A-Za-z_$][A-Za-z0-9_$]*)*)\s*$/.exec(text);
  return match ? (match[1] ?? "").split(".").filter(Boolean) : undefined;
}
