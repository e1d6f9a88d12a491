import { ConfigError } from "../core/errors.ts";
import type { StartOptions } from "../core/run-info.ts";
import type { WorkflowOptions } from "../core/workflow.ts";

// Records over the option types' keys: adding an option to a type without listing it here
// fails the build, so the run-time check never refuses an option the types accept.
const workflowOptionNames: Record<keyof WorkflowOptions<unknown>, true> = {
  name: true,
  input: true,
  retry: true,
  timeout: true,
  triggers: true,
  concurrency: true,
  rateLimit: true,
  debounce: true,
  priority: true,
  queue: true,
  maxCrashes: true,
  version: true,
  idempotency: true,
};

const startOptionNames: Record<keyof StartOptions, true> = {
  id: true,
  tags: true,
  idempotency: true,
};

/**
 * Refuses options nobody reads: a misspelt or unsupported one (an untyped caller, a
 * JavaScript file) would otherwise be silently ignored.
 * @throws ConfigError naming the option and the known ones.
 */
export function checkKnownOptions(
  options: object,
  kind: "workflow" | "start",
  where: string,
): void {
  const known = kind === "workflow" ? workflowOptionNames : startOptionNames;
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(known, name)) {
      throw new ConfigError(
        `${where}: unknown option "${name}" (known: ${Object.keys(known).join(", ")}).`,
      );
    }
  }
}
