import { resolve as resolvePath } from "node:path";
import { toMs } from "../core/duration.ts";
import type { ScriptOptions, WorkflowContext } from "../core/workflow.ts";
import { runScript } from "./script/run-script.ts";

/**
 * `ctx.script`: a step whose attempt runs an external script. It goes through `ctx.step`,
 * so journaling, retries and replay are the step's; only the attempt itself differs.
 */
export function scriptStep<T>(
  ctx: Pick<WorkflowContext, "step">,
  name: string,
  options: ScriptOptions,
): Promise<T> {
  const timeoutMs =
    options.timeout === undefined
      ? undefined
      : toMs(options.timeout, `timeout of script "${name}"`);
  const file = options.file === undefined ? undefined : resolvePath(options.file);
  // The runner owns the timeout: it settles only once the script's process group is dead.
  return ctx.step(name, options.retry ? { retry: options.retry } : {}, async (info) => {
    const result = await runScript({
      ...options,
      file,
      timeoutMs,
      signal: info.signal,
      name: info.step,
    });
    return result.output as T;
  }) as Promise<T>;
}
