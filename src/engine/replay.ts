import type { Clock } from "../core/clock.ts";
import { NonDeterminismError } from "../core/errors.ts";
import type { EntryKind, RunId } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import type { JournalEntry, RunRecord } from "../store/store.ts";
import { RunExecution } from "../worker/run-execution.ts";

/** What replaying a recorded run against the current code found. */
export interface ReplayReport {
  runId: RunId;
  workflow: string;
  /** `consistent`: the code makes the same calls the journal recorded; `diverged`: it does not. */
  result: "consistent" | "diverged";
  /** Journal positions the code reproduced. */
  replayedPositions: number;
  /** Where the recorded history ends: the run would continue with this call. */
  next?: { position: number; kind: EntryKind; key: string };
  /** The code reached its end on recorded outcomes alone. */
  finished?: "completed" | "failed";
  divergence?: { position: number; expected: string; found: string; message: string };
}

/**
 * Runs a recorded run's history against `workflow` without side effects: every journal
 * position returns its recorded outcome, nothing is executed or written, and the first
 * position without a final outcome ends the replay. A different call at a recorded
 * position is reported as a divergence (what `cairn replay` checks before a deploy).
 */
export async function replayRun(
  run: RunRecord,
  journal: readonly JournalEntry[],
  workflow: Workflow<unknown, unknown>,
  clock: Clock,
): Promise<ReplayReport> {
  const execution = new RunExecution(
    {
      clock,
      emit: () => {},
      store: undefined as never, // unreachable: replay stops before anything would run
      writer: { write: async () => ({ ok: true }) },
      payloadLimitBytes: Number.POSITIVE_INFINITY,
      startChild: async () => {},
      replayOnly: true,
    },
    { run: { ...run, deadlineAt: null }, token: run.fencingToken },
    workflow,
    journal,
  );
  const outcome = await execution.run();
  const base = { runId: run.id, workflow: workflow.name };
  if (outcome.type === "failed" && outcome.error instanceof NonDeterminismError) {
    const { position, expected, found, message } = outcome.error;
    return {
      ...base,
      result: "diverged",
      replayedPositions: position,
      divergence: { position, expected, found, message },
    };
  }
  if (outcome.type === "replayed") {
    return {
      ...base,
      result: "consistent",
      replayedPositions: outcome.next.position,
      next: outcome.next,
    };
  }
  return {
    ...base,
    result: "consistent",
    replayedPositions: journal.length,
    ...(outcome.type === "completed" || outcome.type === "failed"
      ? { finished: outcome.type }
      : {}),
  };
}
