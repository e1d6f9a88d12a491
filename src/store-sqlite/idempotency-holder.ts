import type { NewRun, RunRecord } from "../store/store.ts";
import { toRun } from "./rows.ts";
import type { Statements } from "./statements.ts";

/**
 * Takes the run's idempotency key (table `run_idempotency`), or returns the run holding it
 * within the window. The caller's immediate transaction makes the take and the insert that
 * follows one: SQLite has one writer, and the key's primary key settles any other path.
 */
export function idempotencyHolder(sql: Statements, run: NewRun): RunRecord | undefined {
  const { idempotency } = run;
  if (!idempotency) return undefined;
  const cutoff = run.createdAt - idempotency.ttlMs;
  const args = [run.workflow, idempotency.key] as const;
  if (sql.claimIdempotency.get(...args, run.id, run.createdAt, cutoff)) return undefined;
  const row = sql.idempotencyHolder.get(...args);
  return row ? toRun(row) : undefined;
}
