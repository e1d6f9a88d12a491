import { deserialize, parseSerializedError, type SerializedError } from "../core/serializer.ts";
import type { EntryKind, EntryStatus, RunId, RunStatus } from "../core/types.ts";
import type { JournalEntry, RunRecord } from "../store/store.ts";

/** A step (or other journal position) as `getRun` shows it. */
export interface StepInfo {
  position: number;
  key: string;
  kind: EntryKind;
  status: EntryStatus;
  attempt: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  /** Sleep: wake time; waits: timeout. */
  wakeAt: Date | null;
  output: unknown;
  error: SerializedError | null;
  /** For an `invoke`: the child run's id. */
  childRunId?: RunId;
}

/** A run's state, steps and outcome. */
export interface RunInfo<TOutput = unknown> {
  id: RunId;
  workflow: string;
  status: RunStatus;
  input: unknown;
  output: TOutput | undefined;
  error: SerializedError | null;
  parentId: RunId | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  steps: StepInfo[];
}

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

export function toRunInfo<TOutput>(
  run: RunRecord,
  journal: readonly JournalEntry[],
): RunInfo<TOutput> {
  return {
    id: run.id,
    workflow: run.workflow,
    status: run.status,
    input: deserialize(run.input),
    output: run.output === null ? undefined : deserialize<TOutput>(run.output),
    error: run.error === null ? null : parseSerializedError(run.error),
    parentId: run.parentId,
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
