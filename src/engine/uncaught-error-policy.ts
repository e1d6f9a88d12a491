import type { RunId } from "../core/types.ts";
import type { UncaughtErrorInfo } from "../worker/step-scope.ts";

export type { UncaughtErrorInfo } from "../worker/step-scope.ts";

/** `CairnOptions.onUncaughtError`: sees every uncaught error while a worker runs. */
export type UncaughtErrorHook = (error: Error, info: UncaughtErrorInfo) => void;

/**
 * What the engine does with an uncaught error once its worker has trapped it. An attributed
 * error has already failed its step attempt (retried per policy) whatever happens here.
 * With a hook, the hook decides the rest. Without one: attributed and late errors are
 * reported; an unattributed one is reported with the runs in flight, the engine drains
 * (`close()`: in-flight steps finish, runs are handed back as crashed, their leases ended)
 * and the process exits with 1 — what Node would have done at once, minus the lost runs.
 */
export function uncaughtErrorPolicy(deps: {
  hook: UncaughtErrorHook | undefined;
  report(error: Error, context: string): void;
  runsInFlight(): RunId[];
  drain(): Promise<void>;
}): (error: Error, info: Omit<UncaughtErrorInfo, "runsInFlight">) => void {
  let exiting = false;
  return (error, partial) => {
    const info: UncaughtErrorInfo = { ...partial, runsInFlight: deps.runsInFlight() };
    if (deps.hook) {
      deps.hook(error, info);
      return;
    }
    deps.report(error, describeUncaught(info));
    if (info.attributed !== "none" || exiting) return;
    exiting = true;
    void deps.drain().finally(() => process.exit(1));
  };
}

/** One line saying where an uncaught error came from and what the engine did about it. */
export function describeUncaught(info: UncaughtErrorInfo): string {
  const where = `step "${info.step}" of run ${info.runId} (attempt ${info.attempt})`;
  if (info.attributed === "step") return `${info.source} in ${where}: the attempt fails with it`;
  if (info.attributed === "late") {
    return `${info.source} in ${where} after the attempt had ended: its recorded outcome stands`;
  }
  const runs = info.runsInFlight.length > 0 ? info.runsInFlight.join(", ") : "none";
  return `${info.source} outside any step (runs in flight: ${runs}): draining the worker`;
}
