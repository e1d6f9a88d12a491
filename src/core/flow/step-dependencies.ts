import { compileExpression, expressionsIn, stepReferences } from "./flow-expressions.ts";
import type { FlowStep } from "./flow-schema.ts";

/** Every expression of a step, its nested steps' included, with paths below `base`. */
export function stepExpressions(step: FlowStep, base: string): { path: string; text: string }[] {
  const { id: _id, needs: _needs, forEach, branch, ...own } = step;
  const out = expressionsIn(own, base);
  if (forEach) {
    out.push(...expressionsIn(forEach.items, `${base}.forEach.items`));
    forEach.steps.forEach((s, i) => {
      out.push(...stepExpressions(s, `${base}.forEach.steps[${i}]`));
    });
  }
  branch?.forEach((b, k) => {
    out.push(...expressionsIn(b.if, `${base}.branch[${k}].if`));
    b.steps.forEach((s, i) => {
      out.push(...stepExpressions(s, `${base}.branch[${k}].steps[${i}]`));
    });
  });
  return out;
}

/**
 * The sibling steps a step waits for: its `needs` plus every sibling its expressions (or
 * those of its nested steps) read as `steps.<id>`. Reading a step's output makes it a
 * dependency, so `needs` is only required for ordering without data.
 */
export function stepDependencies(step: FlowStep, siblings: ReadonlySet<string>): string[] {
  const deps = new Set(step.needs ?? []);
  for (const { text } of stepExpressions(step, "")) {
    let refs: string[];
    try {
      refs = stepReferences(compileExpression(text));
    } catch {
      continue; // reported by the validator
    }
    for (const ref of refs) if (siblings.has(ref) && ref !== step.id) deps.add(ref);
  }
  return [...deps];
}
