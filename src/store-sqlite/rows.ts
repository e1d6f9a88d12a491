import type { EntryKind, EntryStatus, RunId, RunStatus } from "../core/types.ts";
import type {
  CatchupPolicy,
  JournalEntry,
  NewRun,
  OverlapPolicy,
  RunRecord,
  ScheduleRecord,
  TokenRecord,
  TokenRole,
} from "../store/store.ts";

/** snake_case rows become camelCase records here and nowhere else. */
export function toRun(row: unknown): RunRecord {
  const r = row as Record<string, unknown>;
  return {
    id: r.id as RunId,
    workflow: r.workflow as string,
    status: r.status as RunStatus,
    input: (r.input as string | null) ?? null,
    output: (r.output as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    parentId: (r.parent_id as RunId | null) ?? null,
    parentPosition: num(r.parent_position),
    depth: Number(r.depth ?? 0),
    createdAt: Number(r.created_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    updatedAt: Number(r.updated_at),
    availableAt: num(r.available_at),
    deadlineAt: num(r.deadline_at),
    leaseOwner: (r.lease_owner as string | null) ?? null,
    fencingToken: Number(r.fencing_token),
    queue: (r.queue as string | undefined) ?? "default",
    priority: Number(r.priority ?? 0),
    concurrencyKey: (r.concurrency_key as string | null) ?? null,
    concurrencyLimit: num(r.concurrency_limit),
    rateKey: (r.rate_key as string | null) ?? null,
    rateLimit: num(r.rate_limit),
    ratePeriodMs: num(r.rate_period_ms),
    blockedOn: (r.blocked_on as string | null) ?? null,
    debounceKey: (r.debounce_key as string | null) ?? null,
    scheduleId: (r.schedule_id as string | null) ?? null,
    slotAt: num(r.slot_at),
    slotEndAt: num(r.slot_end_at),
    admitted: r.admitted === undefined ? true : Boolean(r.admitted),
  };
}

export function toEntry(row: unknown): JournalEntry {
  const r = row as Record<string, unknown>;
  return {
    position: Number(r.position),
    key: r.key as string,
    kind: r.kind as EntryKind,
    status: r.status as EntryStatus,
    output: (r.output as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    attempt: Number(r.attempt),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    wakeAt: num(r.wake_at),
    detail: (r.detail as string | null) ?? null,
    seq: num(r.seq),
  };
}

function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function toSchedule(row: unknown): ScheduleRecord {
  const r = row as Record<string, unknown>;
  return {
    id: r.id as string,
    workflow: r.workflow as string,
    cron: r.cron as string,
    tz: r.tz as string,
    input: (r.input as string | null) ?? null,
    overlap: r.overlap as OverlapPolicy,
    catchup: r.catchup as CatchupPolicy,
    paused: Boolean(r.paused),
    nextAt: Number(r.next_at),
    source: r.source as "trigger" | "api",
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
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
    queue: run.queue ?? "default",
    priority: run.priority ?? 0,
    concurrency_key: run.concurrency?.key ?? null,
    concurrency_limit: run.concurrency?.limit ?? null,
    rate_key: run.rateLimit?.key ?? null,
    rate_limit: run.rateLimit?.limit ?? null,
    rate_period_ms: run.rateLimit?.periodMs ?? null,
    debounce_key: run.debounce?.key ?? null,
    schedule_id: run.schedule?.id ?? null,
    slot_at: run.schedule?.slotAt ?? null,
    slot_end_at: run.schedule?.slotEndAt ?? null,
  };
}

export function toToken(row: unknown): TokenRecord {
  const r = row as Record<string, unknown>;
  return {
    id: r.id as string,
    name: r.name as string,
    role: r.role as TokenRole,
    secretHash: r.secret_hash as string,
    createdAt: Number(r.created_at),
    revokedAt: num(r.revoked_at),
    lastUsedAt: num(r.last_used_at),
  };
}
