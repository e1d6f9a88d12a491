import type { EntryKind, EntryStatus } from "../core/types.ts";
import * as rows from "../store/rows.ts";
import type { JournalEntry, NewRun, RunRecord, ScheduleRecord } from "../store/store.ts";
import type { TokenRecord } from "../store/token-records.ts";

/**
 * A run's flow control as `runs` holds it, as named parameters (a start's and an
 * admission's).
 */
export function flowControlParams(
  run: Pick<NewRun, "queue" | "priority" | "concurrency" | "rateLimit">,
): Record<string, string | number | null> {
  return {
    queue: run.queue ?? "default",
    priority: run.priority ?? 0,
    concurrency_key: run.concurrency?.key ?? null,
    concurrency_limit: run.concurrency?.limit ?? null,
    rate_key: run.rateLimit?.key ?? null,
    rate_limit: run.rateLimit?.limit ?? null,
    rate_period_ms: run.rateLimit?.periodMs ?? null,
  };
}

/** The row of a new run: every column `insertRun` takes. */
export function newRunParams(
  run: NewRun,
  claim: { owner: string; leaseUntil: number } | undefined,
): Record<string, unknown> {
  const delay = run.debounce ? run.debounce.periodMs : 0;
  return {
    id: run.id,
    workflow: run.workflow,
    status: claim ? "running" : "queued",
    input: run.input,
    parent_id: run.parentId ?? null,
    parent_position: run.parentPosition ?? null,
    depth: run.depth ?? 0,
    created_at: run.createdAt,
    started_at: claim ? run.createdAt : null,
    available_at: claim ? claim.leaseUntil : run.admitted === false ? null : run.createdAt + delay,
    admitted: run.admitted === false ? 0 : 1,
    deadline_at: run.deadlineAt ?? null,
    lease_owner: claim?.owner ?? null,
    fencing_token: claim ? 1 : 0,
    ...flowControlParams(run),
    debounce_key: run.debounce?.key ?? null,
    schedule_id: run.schedule?.id ?? null,
    slot_at: run.schedule?.slotAt ?? null,
    slot_end_at: run.schedule?.slotEndAt ?? null,
    workflow_version: run.workflowVersion ?? 1,
  };
}

/** better-sqlite3 rows are `unknown`; the mapping is the stores' shared one. */
export const toRun = (row: unknown): RunRecord => rows.toRun(row as rows.Row);
export const toEntry = (row: unknown): JournalEntry => rows.toEntry(row as rows.Row);
export const toSchedule = (row: unknown): ScheduleRecord => rows.toSchedule(row as rows.Row);
export const toToken = (row: unknown): TokenRecord => rows.toToken(row as rows.Row);

/** A journal row read as an array, in `getJournal`'s column order; as `rows.toEntry` maps. */
export function toEntryRow(row: unknown): JournalEntry {
  const r = row as unknown[];
  return {
    position: Number(r[0]),
    key: r[1] as string,
    kind: r[2] as EntryKind,
    status: r[3] as EntryStatus,
    output: rows.str(r[4]),
    error: rows.str(r[5]),
    attempt: Number(r[6]),
    startedAt: rows.num(r[7]),
    finishedAt: rows.num(r[8]),
    wakeAt: rows.num(r[9]),
    detail: rows.str(r[10]),
    seq: rows.num(r[11]),
  };
}
