import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import type { AnyWorkflow } from "../../sdk/define-workflow.ts";

/** The run (and step) whose code is executing, for labelling `console` output. */
export interface ConsoleScope {
  runId: string;
  workflow: string;
  step?: string;
}

const scope = new AsyncLocalStorage<ConsoleScope>();

type StepFn = (...args: unknown[]) => unknown;

/**
 * Copies of `workflows` whose function, and every `ctx.step` body, runs inside a
 * {@link ConsoleScope}: `console.log` in user code can then say which run and step wrote it.
 * Only the CLI's long-running processes use this; the engine itself knows nothing of it.
 */
export function scopeWorkflows(workflows: readonly AnyWorkflow[]): AnyWorkflow[] {
  return workflows.map((workflow) => ({
    ...workflow,
    fn: (ctx: Parameters<AnyWorkflow["fn"]>[0], input: unknown) => {
      const run = { runId: ctx.runId, workflow: workflow.name };
      return scope.run(run, () => workflow.fn(scopedContext(ctx, run), input));
    },
  }));
}

/** `ctx` with `step` wrapping its body in the step's scope; everything else untouched. */
function scopedContext<T extends object>(ctx: T, run: ConsoleScope): T {
  return new Proxy(ctx, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property !== "step") return value.bind(target);
      return (name: string, ...rest: unknown[]) => {
        const last = rest.length - 1;
        const body = rest[last];
        if (typeof body === "function") {
          rest[last] = (...args: unknown[]) =>
            scope.run({ ...run, step: name }, () => (body as StepFn)(...args));
        }
        return (value as StepFn).call(target, name, ...rest);
      };
    },
  });
}

const methods = ["log", "info", "warn", "error", "debug"] as const;
export type ConsoleMethod = (typeof methods)[number];

/**
 * Sends `console.*` calls made inside a run to `write` with their scope; calls outside any
 * run keep their usual behaviour. Returns a function that restores the console.
 */
export function labelConsole(
  write: (line: { method: ConsoleMethod; scope: ConsoleScope; text: string }) => void,
): () => void {
  const originals = methods.map((method) => [method, console[method]] as const);
  for (const [method, original] of originals) {
    console[method] = (...args: unknown[]) => {
      const current = scope.getStore();
      if (current) write({ method, scope: current, text: format(...args) });
      else original.apply(console, args);
    };
  }
  return () => {
    for (const [method, original] of originals) console[method] = original;
  };
}
