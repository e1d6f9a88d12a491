import { flowStepWorkflowName } from "./flows/flow-step-test.ts";

/**
 * Workflows every engine registers for its own use (testing one flow step). Every process
 * runs them, so they are never recorded in the store's registry nor listed as the user's.
 */
const builtInWorkflowNames: ReadonlySet<string> = new Set([flowStepWorkflowName]);

/** `names` without the engine's built-in workflows. */
export function userWorkflowNames(names: Iterable<string>): string[] {
  return [...names].filter((name) => !builtInWorkflowNames.has(name));
}
