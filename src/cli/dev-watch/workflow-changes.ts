import type { AnyWorkflow } from "../../sdk/define-workflow.ts";

/** How two loads of an entry differ, by workflow name. */
export interface WorkflowChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

/**
 * Compares two loads: a workflow changed when its function's source or its options (with
 * functions such as `concurrency.key` compared by source) differ.
 */
export function workflowChanges(
  before: readonly AnyWorkflow[],
  after: readonly AnyWorkflow[],
): WorkflowChanges {
  const old = new Map(before.map((w) => [w.name, fingerprint(w)]));
  const next = new Map(after.map((w) => [w.name, fingerprint(w)]));
  return {
    added: [...next.keys()].filter((name) => !old.has(name)),
    removed: [...old.keys()].filter((name) => !next.has(name)),
    changed: [...next]
      .filter(([name, print]) => old.has(name) && old.get(name) !== print)
      .map(([name]) => name),
  };
}

export function hasChanges(changes: WorkflowChanges): boolean {
  return changes.added.length + changes.removed.length + changes.changed.length > 0;
}

function fingerprint(workflow: AnyWorkflow): string {
  const options = JSON.stringify(workflow.options, (_key, value: unknown) =>
    typeof value === "function" ? String(value) : value,
  );
  return `${String(workflow.fn)}\n${options}`;
}
