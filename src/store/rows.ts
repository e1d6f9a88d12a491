import type { EntryKind, EntryStatus, RunId, RunStatus } from "../core/types.ts";
import type {
  CatchupPolicy,
  EventRecord,
  JournalEntry,
  OverlapPolicy,
  RunRecord,
  ScheduleRecord,
} from "./store.ts";
import type { TokenRecord, TokenRole } from "./token-records.ts";

export type Row = Record<string, unknown>;

/**
 * snake_case rows become camelCase records here and nowhere else, for both stores.
 * postgres.js returns BIGINT columns as strings (they may exceed 2^53); times and tokens
 * fit a double, so they become numbers here.
 */
export function toRun(row: Row): RunRecord {
  return {
    id: row.id as RunId,
    workflow: row.workflow as string,
    status: row.status as RunStatus,
    input: str(row.input),
    output: str(row.output),
    error: str(row.error),
    parentId: str(row.parent_id) as RunId | null,
    parentPosition: num(row.parent_position),
    depth: Number(row.depth ?? 0),
    createdAt: Number(row.created_at),
    startedAt: num(row.started_at),
    finishedAt: num(row.finished_at),
    updatedAt: Number(row.updated_at),
    availableAt: num(row.available_at),
    deadlineAt: num(row.deadline_at),
    leaseOwner: str(row.lease_owner),
    fencingToken: Number(row.fencing_token),
    queue: (row.queue as string | undefined) ?? "default",
    priority: Number(row.priority ?? 0),
    concurrencyKey: str(row.concurrency_key),
    concurrencyLimit: num(row.concurrency_limit),
    rateKey: str(row.rate_key),
    rateLimit: num(row.rate_limit),
    ratePeriodMs: num(row.rate_period_ms),
    blockedOn: str(row.blocked_on),
    debounceKey: str(row.debounce_key),
    scheduleId: str(row.schedule_id),
    slotAt: num(row.slot_at),
    slotEndAt: num(row.slot_end_at),
    admitted: row.admitted === undefined ? true : Boolean(row.admitted),
    continuedFrom: (str(row.continued_from) ?? null) as RunId | null,
    continuedTo: (str(row.continued_to) ?? null) as RunId | null,
    workflowVersion: Number(row.workflow_version ?? 1),
  };
}

export function toEntry(row: Row): JournalEntry {
  return {
    position: Number(row.position),
    key: row.key as string,
    kind: row.kind as EntryKind,
    status: row.status as EntryStatus,
    output: str(row.output),
    error: str(row.error),
    attempt: Number(row.attempt),
    startedAt: num(row.started_at),
    finishedAt: num(row.finished_at),
    wakeAt: num(row.wake_at),
    detail: str(row.detail),
    seq: num(row.seq),
  };
}

/**
 * A journal entry's columns of `steps` after `run_id`, in the table's order (the reverse of
 * {@link toEntry}): the positional parameters of both stores' entry statements.
 */
export function entryValues(e: JournalEntry): (string | number | null)[] {
  return [
    e.position,
    e.key,
    e.kind,
    e.status,
    e.output,
    e.error,
    e.attempt,
    e.startedAt,
    e.finishedAt,
    e.wakeAt,
    e.detail,
    e.seq,
  ];
}

export function toEvent(row: Row): EventRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    data: str(row.data),
    createdAt: Number(row.created_at),
  };
}

export function toSchedule(row: Row): ScheduleRecord {
  return {
    id: row.id as string,
    workflow: row.workflow as string,
    cron: row.cron as string,
    tz: row.tz as string,
    input: str(row.input),
    overlap: row.overlap as OverlapPolicy,
    catchup: row.catchup as CatchupPolicy,
    paused: Boolean(row.paused),
    nextAt: Number(row.next_at),
    source: row.source as "trigger" | "api",
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toToken(row: Row): TokenRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    role: row.role as TokenRole,
    secretHash: row.secret_hash as string,
    createdAt: Number(row.created_at),
    revokedAt: num(row.revoked_at),
    lastUsedAt: num(row.last_used_at),
    expiresAt: num(row.expires_at),
  };
}

export function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function str(value: unknown): string | null {
  return value === null || value === undefined ? null : (value as string);
}
