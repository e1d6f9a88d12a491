import type { Clock } from "../core/clock.ts";
import { ensureError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { ClaimedRun, JournalStore } from "../store/journal-store.ts";
import type { ExecutionEnv } from "./execution-env.ts";
import type { RunExecution } from "./run-execution.ts";

/** Where the worker holding the crashed runs keeps their leases, and reports errors. */
export interface CrashedRunsDeps {
  store: Pick<JournalStore, "renewLeases">;
  owner: string;
  clock: Clock;
  hooks: { onError(error: Error, context: string): void };
}

/**
 * Executions in flight when an uncaught error outside any step hit the process. Its state
 * is unknown then (Node would have ended it), so at shutdown these are not released, which
 * would reset their crash count and let a run that throws from its workflow body take down
 * worker after worker forever: their leases end instead, and the next claim of each counts
 * one crash, as if the process had died. Runs merely in flight beside the culprit are
 * counted too, as beside a SIGKILL; the claim's suspect rules keep them from being taken
 * down together again.
 */
export class CrashedRuns {
  readonly #executions = new WeakSet<RunExecution>();

  readonly #deps: CrashedRunsDeps;

  constructor(deps: CrashedRunsDeps) {
    this.#deps = deps;
  }

  mark(executions: Iterable<RunExecution>): void {
    for (const execution of executions) this.#executions.add(execution);
  }

  /** Shutdown: start no new step; then hand the run back, as crashed if it was marked. */
  drain(execution: RunExecution): void {
    execution.drain(this.#executions.has(execution));
  }

  /** Ends the leases of the marked ones among `executions` now, not at their expiry. */
  async endLeases(
    executions: readonly RunExecution[],
    /** A lease renewal in flight: awaited first, or it could extend them again. */
    renewal?: Promise<void>,
  ): Promise<void> {
    await renewal?.catch(() => {});
    const leases = executions
      .filter((e) => this.#executions.has(e))
      .map((e) => ({ runId: e.runId, token: e.token }));
    if (leases.length === 0) return;
    const { store, owner, clock, hooks } = this.#deps;
    await store
      .renewLeases(owner, leases, clock.now())
      .catch((error) => hooks.onError(ensureError(error), "ending the crashed runs' leases"));
  }
}

/**
 * Hands back a claimed run that never ran here (its journal failed to load: a database
 * refusing connections, say) at once, rather than let it wait out its lease.
 */
export async function releaseUnrun(
  writer: ExecutionEnv["writer"],
  claimed: ClaimedRun,
  at: number,
  hooks: { onError(error: Error, context: string): void },
): Promise<void> {
  const runId: RunId = claimed.run.id;
  await writer
    .write({ type: "release", runId, token: claimed.token, at })
    .catch((error) =>
      hooks.onError(ensureError(error), `releasing run ${runId}; its lease will lapse`),
    );
}
