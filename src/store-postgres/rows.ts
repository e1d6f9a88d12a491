import { type Row, toRun as toRunRow } from "../store/rows.ts";
import type { NewRun, RunRecord } from "../store/store.ts";

/** Rows as the stores share them; `toRun` adds PostgreSQL's `blocked_on` spelling. */
export { num, toEntry, toEvent, toSchedule, toToken } from "../store/rows.ts";

export function toRun(row: Row): RunRecord {
  const run = toRunRow(row);
  // Stored with \u001f between workflow and key (PostgreSQL text cannot hold \u0000);
  // reported as SQLite reports it.
  return run.blockedOn === null
    ? run
    : { ...run, blockedOn: run.blockedOn.replace("\u001f", "\u0000") };
}

/**
 * A run's flow control as `runs` holds it: queue, priority, concurrency_key,
 * concurrency_limit, rate_key, rate_limit, rate_period_ms (a start's and an admission's).
 */
export function flowControlValues(
  run: Pick<NewRun, "queue" | "priority" | "concurrency" | "rateLimit">,
): (string | number | null)[] {
  return [
    run.queue ?? "default",
    run.priority ?? 0,
    run.concurrency?.key ?? null,
    run.concurrency?.limit ?? null,
    run.rateLimit?.key ?? null,
    run.rateLimit?.limit ?? null,
    run.rateLimit?.periodMs ?? null,
  ];
}

/** The columns of a new run, in the order of {@link runColumns}. */
export function newRunValues(
  run: NewRun,
  claim: { owner: string; leaseUntil: number } | undefined,
): (string | number | boolean | null)[] {
  const delay = run.debounce ? run.debounce.periodMs : 0;
  return [
    run.id,
    run.workflow,
    claim ? "running" : "queued",
    run.input,
    run.parentId ?? null,
    run.parentPosition ?? null,
    run.depth ?? 0,
    run.createdAt,
    claim ? run.createdAt : null,
    run.createdAt,
    claim ? claim.leaseUntil : run.admitted === false ? null : run.createdAt + delay,
    run.deadlineAt ?? null,
    claim?.owner ?? null,
    claim ? 1 : 0,
    ...flowControlValues(run),
    run.debounce?.key ?? null,
    run.schedule?.id ?? null,
    run.schedule?.slotAt ?? null,
    run.schedule?.slotEndAt ?? null,
    run.admitted !== false,
    run.workflowVersion ?? 1,
    // A run created claimed executes in the process that started it, where `result()`
    // hears its end without the database; a waiter elsewhere asks (`getRunAnnouncingEnd`).
    claim === undefined,
  ];
}

/** Every column a new run sets, with its type (for `unnest` of one array per column). */
export const runColumns: readonly (readonly [name: string, type: string])[] = [
  ["id", "text"],
  ["workflow", "text"],
  ["status", "text"],
  ["input", "text"],
  ["parent_id", "text"],
  ["parent_position", "int"],
  ["depth", "int"],
  ["created_at", "bigint"],
  ["started_at", "bigint"],
  ["updated_at", "bigint"],
  ["available_at", "bigint"],
  ["deadline_at", "bigint"],
  ["lease_owner", "text"],
  ["fencing_token", "bigint"],
  ["queue", "text"],
  ["priority", "int"],
  ["concurrency_key", "text"],
  ["concurrency_limit", "int"],
  ["rate_key", "text"],
  ["rate_limit", "int"],
  ["rate_period_ms", "bigint"],
  ["debounce_key", "text"],
  ["schedule_id", "text"],
  ["slot_at", "bigint"],
  ["slot_end_at", "bigint"],
  ["admitted", "boolean"],
  ["workflow_version", "int"],
  ["announce_end", "boolean"],
];
