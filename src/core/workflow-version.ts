import type { Workflow } from "./workflow.ts";

/** A workflow's version: `options.version`, or 1 for a workflow that declares none. */
export function versionOf(workflow: Pick<Workflow, "options">): number {
  return workflow.options.version ?? 1;
}

/**
 * Throws unless `version` is absent or a positive safe integer (an ordering is needed: new
 * runs start on the highest registered version).
 */
export function checkVersion(name: string, version: unknown): void {
  if (version === undefined) return;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    throw new TypeError(
      `defineWorkflow("${name}"): \`version\` must be a positive integer, got ${JSON.stringify(version) ?? String(version)}.`,
    );
  }
}
