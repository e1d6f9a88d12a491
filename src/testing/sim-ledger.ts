import type { StepRunInfo, Workflow, WorkflowContext } from "../core/workflow.ts";
import type { SimProcess } from "./sim-process.ts";

/** A step body that ran again after its outcome had been recorded in the database. */
export interface Reexecution {
  runId: string;
  step: string;
  process: string;
}

/**
 * The simulation's own record of side effects, kept outside the engine: every time a step
 * body starts, every time a step's outcome reached the database, and when each process last
 * read each run's journal (it does when it claims the run).
 *
 * A step body that starts after its outcome was recorded is one of two things. If the
 * process read the journal after the outcome was in it, the engine ignored a checkpoint: a
 * violation. If it read it before, the process is a stale owner — it lost its lease (a
 * stall, a clock jump) and has not learned it yet; its writes are fenced, but the body ran:
 * the at-least-once duplicate every lease-based engine has, counted apart.
 */
export class SimLedger {
  /** Step bodies started, interrupted ones included. */
  executions = 0;
  /** Step bodies a stale owner started after another process recorded the outcome. */
  staleExecutions = 0;
  #clock = 0;
  readonly #recordedAt = new Map<string, number>();
  readonly #readAt = new Map<string, number>();
  readonly #started = new Map<string, number>();
  readonly reexecutions: Reexecution[] = [];

  stepStarted(runId: string, step: string, process: string): void {
    this.executions++;
    const key = `${runId}\u0000${step}`;
    this.#started.set(key, (this.#started.get(key) ?? 0) + 1);
    const recordedAt = this.#recordedAt.get(key);
    if (recordedAt === undefined) return;
    const readAt = this.#readAt.get(`${process}\u0000${runId}`) ?? 0;
    if (readAt > recordedAt) this.reexecutions.push({ runId, step, process });
    else this.staleExecutions++;
  }

  recorded(runId: string, step: string): void {
    const key = `${runId}\u0000${step}`;
    if (!this.#recordedAt.has(key)) this.#recordedAt.set(key, ++this.#clock);
  }

  /** A process read a run's journal (to execute it). */
  journalRead(process: string, runId: string): void {
    this.#readAt.set(`${process}\u0000${runId}`, ++this.#clock);
  }

  /** Step bodies that started more than once (allowed: a crash or lease loss interrupted one). */
  get repeatedSteps(): number {
    let repeated = 0;
    for (const count of this.#started.values()) if (count > 1) repeated++;
    return repeated;
  }
}

/**
 * The user's workflow with its step bodies counted in the ledger. Each simulated process
 * gets its own copy, so a dead process's step bodies never start (as after a real crash).
 */
export function instrumentWorkflow(
  workflow: Workflow<unknown, unknown>,
  process: SimProcess,
  ledger: SimLedger,
): Workflow<unknown, unknown> {
  return {
    ...workflow,
    fn: (ctx, input) => workflow.fn(instrumentContext(ctx, process, ledger), input),
  };
}

type StepFn = (info: StepRunInfo) => unknown;

function instrumentContext(
  ctx: WorkflowContext,
  process: SimProcess,
  ledger: SimLedger,
): WorkflowContext {
  const counted =
    (fn: StepFn): StepFn =>
    (info) => {
      if (process.dead) return new Promise(() => {});
      ledger.stepStarted(info.runId, info.step, process.name);
      return fn(info);
    };
  const step = (name: string, a: unknown, b?: unknown) =>
    b === undefined
      ? ctx.step(name, counted(a as StepFn))
      : ctx.step(name, a as never, counted(b as StepFn));
  const transaction = (name: string, fn: (tx: unknown) => unknown, options?: unknown) =>
    ctx.transaction(
      name,
      (tx) => {
        if (process.dead) return new Promise(() => {});
        ledger.stepStarted(ctx.runId, name, process.name);
        return fn(tx);
      },
      options as never,
    );
  return new Proxy(ctx, {
    get(target, prop) {
      if (prop === "step") return step;
      if (prop === "transaction") return transaction;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
