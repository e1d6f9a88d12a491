import { matchesEvent, serializeReceivedEvent } from "../core/events.ts";
import { deserialize } from "../core/serializer.ts";
import { isTerminal, type RunId, type RunStatus } from "../core/types.ts";
import { entryValues } from "../store/rows.ts";
import type {
  EventRecord,
  JournalEntry,
  JournalOp,
  JournalOpResult,
  WaitRegistration,
} from "../store/store.ts";
import { continueRun, lastOfChain } from "./continue-run.ts";
import { registerAnyWait } from "./register-any-wait.ts";
import { toRun } from "./rows.ts";
import type { prepareStatements } from "./statements.ts";

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The journal ops of a commit, applied inside the caller's immediate transaction: each is
 * fenced on its own (applies only while the run is running under the op's token).
 */
/** A run stopped running: runs parked on its concurrency key compete again. */
export function freeSlot(sql: Statements, runId: RunId, at: number): void {
  const row = sql.concurrencyOf.get(runId) as
    | { workflow: string; concurrency_key: string | null }
    | undefined;
  if (row) sql.unblock.run(at, concurrencySlot(row.workflow, row.concurrency_key));
}

export function applyOp(sql: Statements, op: JournalOp): JournalOpResult {
  // A step's entry, most of a commit's ops, is fenced inside its own statement: one
  // statement per step, not a read of the run and then the write. Only a fenced one reads.
  if (op.type === "entry") {
    const { changes } = sql.upsertFencedEntry.run(
      op.runId,
      ...entryValues(op.entry),
      op.runId,
      op.token,
    );
    return changes > 0 ? { ok: true } : fenced(sql, op.runId);
  }
  const current = sql.getOwnership.get(op.runId) as
    | { status: RunStatus; fencing_token: number }
    | undefined;
  if (current?.status !== "running" || current.fencing_token !== op.token) {
    return { ok: false, reason: "fenced", status: current?.status ?? null };
  }
  switch (op.type) {
    case "complete":
      sql.finishRun.run("completed", op.output, null, op.at, op.at, op.runId);
      sql.deleteWaits.run(op.runId);
      freeSlot(sql, op.runId, op.at);
      resolveParent(sql, op.runId, "completed", op.output, null, op.at);
      return { ok: true, status: "completed" };
    case "fail":
      sql.finishRun.run("failed", null, op.error, op.at, op.at, op.runId);
      sql.deleteWaits.run(op.runId);
      freeSlot(sql, op.runId, op.at);
      resolveParent(sql, op.runId, "failed", null, op.error, op.at);
      return { ok: true, status: "failed" };
    case "continue":
      continueRun(sql, op);
      freeSlot(sql, op.runId, op.at);
      return { ok: true, status: "completed" };
    case "release":
      sql.setRunState.run("queued", op.at, op.at, op.runId);
      freeSlot(sql, op.runId, op.at);
      return { ok: true, status: "queued" };
    case "suspend": {
      let resolved = false;
      for (const wait of op.waits) {
        if (registerWait(sql, op.runId, wait, op.at)) resolved = true;
      }
      const status: RunStatus = resolved ? "queued" : "waiting";
      sql.setRunState.run(status, resolved ? op.at : op.availableAt, op.at, op.runId);
      freeSlot(sql, op.runId, op.at);
      return { ok: true, status };
    }
  }
}

/** The answer to a write its run's lease no longer covers. */
function fenced(sql: Statements, runId: RunId): JournalOpResult {
  const current = sql.getOwnership.get(runId) as { status: RunStatus } | undefined;
  return { ok: false, reason: "fenced", status: current?.status ?? null };
}

/** Records a wait; returns true when it is already resolved (buffered input, finished child). */
function registerWait(sql: Statements, runId: RunId, wait: WaitRegistration, at: number): boolean {
  if (wait.kind === "retry") return false; // only the run's available_at waits for it
  if (wait.kind === "any") return registerAnyWait(sql, runId, wait, at);
  const detail =
    wait.kind === "event"
      ? JSON.stringify({ event: wait.event, match: wait.match })
      : wait.kind === "signal"
        ? JSON.stringify({ signal: wait.signal })
        : wait.kind === "invoke"
          ? JSON.stringify({ childId: wait.childId })
          : null;
  const wakeAt =
    wait.kind === "sleep" ? wait.wakeAt : wait.kind === "invoke" ? null : wait.timeoutAt;
  sql.insertWaitingEntry.run(runId, wait.position, wait.key, wait.kind, at, wakeAt, detail);
  const entry = sql.getEntryStatus.get(runId, wait.position) as { status: string };
  if (entry.status !== "waiting") return true;

  switch (wait.kind) {
    case "sleep":
      return false;
    case "event": {
      const createdAt = (sql.getRunCreatedAt.get(runId) as { created_at: number }).created_at;
      for (const event of sql.bufferedEvents.all(wait.event, createdAt, runId)) {
        const record = toEvent(event);
        if (!matchesEvent(deserialize(record.data), wait.match)) continue;
        sql.resolveEventEntry.run(
          serializeReceivedEvent(record),
          record.id,
          at,
          runId,
          wait.position,
        );
        return true;
      }
      sql.insertWait.run(runId, wait.position, "event", wait.event, JSON.stringify(wait.match), at);
      return false;
    }
    case "signal": {
      const signal = sql.oldestSignal.get(runId, wait.signal) as
        | { seq: number; payload: string | null }
        | undefined;
      if (signal) {
        sql.consumeSignal.run(at, signal.seq);
        sql.resolveEntry.run("completed", signal.payload, null, at, runId, wait.position);
        return true;
      }
      sql.insertWait.run(runId, wait.position, "signal", wait.signal, null, at);
      return false;
    }
    case "invoke": {
      const child = lastOfChain(sql, wait.childId);
      if (!child) return false;
      const { status, output, error } = toRun(child);
      if (!isTerminal(status)) return false;
      sql.resolveEntry.run(
        status === "completed" ? "completed" : "failed",
        output,
        error,
        at,
        runId,
        wait.position,
      );
      return true;
    }
  }
}

/** A finished child resolves its parent's invoke entry and wakes the parent. */
export function resolveParent(
  sql: Statements,
  childId: RunId,
  status: RunStatus,
  output: string | null,
  error: string | null,
  at: number,
) {
  const child = sql.getParentLink.get(childId) as
    | { parent_id: RunId | null; parent_position: number | null }
    | undefined;
  if (!child?.parent_id || child.parent_position === null) return;
  const entryStatus = status === "completed" ? "completed" : "failed";
  const changed = sql.resolveEntry.run(
    entryStatus,
    output,
    error,
    at,
    child.parent_id,
    child.parent_position,
  );
  if (changed.changes > 0) sql.wakeRun.run(at, at, child.parent_id);
}

/** The value runs parked on a concurrency key carry in `blocked_on`. */
export function concurrencySlot(workflow: string, key: string | null): string {
  return `${workflow}\u0000${key ?? ""}`;
}

export function toEvent(row: unknown): EventRecord {
  const r = row as { id: string; name: string; data: string | null; created_at: number };
  return { id: r.id, name: r.name, data: r.data, createdAt: r.created_at };
}

export function entryParams(runId: RunId, e: JournalEntry) {
  return {
    run_id: runId,
    position: e.position,
    key: e.key,
    kind: e.kind,
    status: e.status,
    output: e.output,
    error: e.error,
    attempt: e.attempt,
    started_at: e.startedAt,
    finished_at: e.finishedAt,
    wake_at: e.wakeAt,
    detail: e.detail,
    seq: e.seq,
  };
}
