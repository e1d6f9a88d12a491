import { CairnError } from "../core/errors.ts";
import { checkLookupId } from "../core/names.ts";
import type { RunInfo } from "../core/run-info.ts";
import { deserialize, parseSerializedError } from "../core/serializer.ts";
import type { RunId } from "../core/types.ts";
import type { JournalEntry, RunRecord } from "../store/run-records.ts";
import type { RunStore } from "../store/run-store.ts";

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

export function toRunInfo<TOutput>(
  run: RunRecord,
  journal: readonly JournalEntry[],
): RunInfo<TOutput> {
  return {
    id: run.id,
    workflow: run.workflow,
    workflowVersion: run.workflowVersion,
    status: run.status,
    input: deserialize(run.input),
    output: run.output === null ? undefined : deserialize<TOutput>(run.output),
    error: run.error === null ? null : parseSerializedError(run.error),
    parentId: run.parentId,
    continuedFrom: run.continuedFrom,
    continuedTo: run.continuedTo,
    createdAt: new Date(run.createdAt),
    startedAt: date(run.startedAt),
    finishedAt: date(run.finishedAt),
    steps: journal.map((e) => ({
      position: e.position,
      key: e.key,
      kind: e.kind,
      status: e.status,
      attempt: e.attempt,
      startedAt: date(e.startedAt),
      finishedAt: date(e.finishedAt),
      durationMs: e.startedAt !== null && e.finishedAt !== null ? e.finishedAt - e.startedAt : null,
      wakeAt: date(e.wakeAt),
      output: e.output === null ? undefined : deserialize(e.output),
      error: e.error === null ? null : parseSerializedError(e.error),
      ...(e.kind === "invoke" && e.detail
        ? { childRunId: (JSON.parse(e.detail) as { childId: RunId }).childId }
        : {}),
    })),
  };
}

/** A run's status, steps and outcome, read from the store. @throws `RUN_NOT_FOUND` */
export async function readRunInfo<TOutput>(
  store: Pick<RunStore, "getRun" | "getJournal">,
  runId: string,
): Promise<RunInfo<TOutput>> {
  checkLookupId("run id", runId);
  const run = await store.getRun(runId as RunId);
  if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${runId}".`);
  return toRunInfo<TOutput>(run, await store.getJournal(run.id));
}
