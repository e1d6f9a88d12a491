import { serialize } from "../core/serializer.ts";
import type { StepOptions } from "../core/workflow.ts";
import type { ExecutionEnv } from "./execution-env.ts";
import { runStep, type StepHost } from "./run-step.ts";
import type { StepLogger } from "./step-logger.ts";
import { runInStepScope, type StepScope } from "./step-scope.ts";

/** What `ctx.transaction` needs of the run executing it. */
export interface TransactionRun {
  readonly runId: string;
  readonly token: number;
  readonly env: Pick<ExecutionEnv, "store" | "payloadLimitBytes">;
  readonly stepHost: StepHost;
  logger(key: string, attempt: number): StepLogger;
  /** The error for a write refused under a stale fencing token. */
  fenced(): Error;
}

/**
 * `ctx.transaction`: the body runs inside the store's transaction that also records the step,
 * so the user's writes and the checkpoint commit or roll back together.
 */
export function transactionStep<T, Tx>(
  run: TransactionRun,
  name: string,
  fn: (tx: Tx) => T | Promise<T>,
  options: Omit<StepOptions, "timeout">,
): Promise<Awaited<T>> {
  if (typeof fn !== "function") {
    throw new TypeError(`ctx.transaction("${name}") needs a function as its last argument.`);
  }
  const { env } = run;
  return runStep<Awaited<T>>(
    run.stepHost,
    "transaction",
    name,
    options,
    async (key, attempt, entry) => {
      const logger = run.logger(key, attempt);
      // No leak trap: the body runs inside the store's transaction, whose outcome is the step's.
      const scope: StepScope = {
        kind: "transaction",
        runId: run.runId as never,
        workflow: run.stepHost.workflow,
        step: key,
        attempt,
        log: (level, message) => logger.log(level, message),
      };
      const result = await env.store.transactionalStep(
        { runId: run.runId as never, token: run.token, entry: entry() },
        (tx) => runInStepScope(scope, () => fn(tx as Tx)),
        (value) => serialize(value, `The output of transaction "${key}"`, env.payloadLimitBytes),
      );
      if (!result.ok) throw run.fenced();
      return result.output;
    },
  );
}
