import type { FlowStep } from "../../../src/core/flow/flow-schema.ts";
import { stepDependencies } from "../../../src/core/flow/step-dependencies.ts";
import { isRecord } from "./flow-document.ts";

/**
 * The siblings each step of one list waits for without naming them in `needs`: those its
 * expressions (or its inner steps') read as `steps.<id>`. The engine's own rule
 * (`stepDependencies`), so the graph shows the order a run really follows. Keyed by the
 * step's position in the list.
 */
export function unlistedDependencies(steps: readonly unknown[]): Map<number, string[]> {
  const siblings = new Set(
    steps.flatMap((step) => (isRecord(step) && typeof step.id === "string" ? [step.id] : [])),
  );
  const found = new Map<number, string[]>();
  steps.forEach((step, index) => {
    if (!isRecord(step) || typeof step.id !== "string") return;
    let all: string[];
    try {
      all = stepDependencies(step as unknown as FlowStep, siblings);
    } catch {
      // A step the editor is still typing (say, `forEach` without `steps`): the validator
      // reports it; its reads show once it has a shape.
      return;
    }
    const listed = new Set(Array.isArray(step.needs) ? step.needs : [step.needs]);
    const unlisted = all.filter((id) => !listed.has(id));
    if (unlisted.length > 0) found.set(index, unlisted);
  });
  return found;
}
