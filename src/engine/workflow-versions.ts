import { CairnError } from "../core/errors.ts";
import type { AnyWorkflow, Workflow } from "../core/workflow.ts";
import { versionOf } from "../core/workflow-version.ts";
import type { RunRecord } from "../store/store.ts";

type Definition = Workflow<unknown, unknown>;

/**
 * Workflow definitions by name and version: several versions of one name live side by
 * side, so runs started on an old version keep their code while new runs start on the
 * newest (`defineWorkflow({ version })`).
 */
export class WorkflowVersions {
  readonly #byName = new Map<string, Map<number, Definition>>();

  /**
   * Adds a definition; `replace` lets it take the place of the same name and version (a
   * reload), otherwise a second definition of one name and version is an error.
   */
  add(workflow: AnyWorkflow, replace = false): void {
    const definition = workflow as Definition;
    const version = versionOf(definition);
    let versions = this.#byName.get(definition.name);
    if (!versions) {
      versions = new Map();
      this.#byName.set(definition.name, versions);
    }
    const existing = versions.get(version);
    if (existing && existing !== definition && !replace) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        versions.size === 1 && definition.options.version === undefined
          ? `Two different workflows are named "${definition.name}".`
          : `Two different workflows are named "${definition.name}" with version ${version}; give each version its own number.`,
      );
    }
    versions.set(version, definition);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** The highest version of `name`: what new runs start on. */
  latest(name: string): Definition | undefined {
    const versions = this.#byName.get(name);
    if (!versions) return undefined;
    return versions.get(Math.max(...versions.keys()));
  }

  get(name: string, version: number): Definition | undefined {
    return this.#byName.get(name)?.get(version);
  }

  /** The versions of `name`, lowest first. */
  versions(name: string): number[] {
    return [...(this.#byName.get(name)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** `name@version` for every definition: what a worker's claims are limited to. */
  claimKeys(): string[] {
    const keys: string[] = [];
    for (const [name, versions] of this.#byName) {
      for (const version of versions.keys()) keys.push(`${name}@${version}`);
    }
    return keys;
  }

  /** The code of a run's workflow at the run's version, or why there is none. */
  codeFor(run: Pick<RunRecord, "workflow" | "workflowVersion">): Definition | { missing: string } {
    const found = this.get(run.workflow, run.workflowVersion);
    if (found) return found;
    const have = this.versions(run.workflow);
    return {
      missing:
        have.length === 0
          ? `the code has no workflow "${run.workflow}": no worker would resume this run`
          : `the code has no version ${run.workflowVersion} of "${run.workflow}" (it has ${have.map((v) => `version ${v}`).join(", ")}): keep that version registered until its runs finish`,
    };
  }
}
