import type { EntryKind, EntryStatus, RunId, RunStatus } from "../core/types.ts";
import type { JournalEntry, RunRecord, TokenRecord, TokenRole } from "../store/store.ts";

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
  };
}

function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
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
