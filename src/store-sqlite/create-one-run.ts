import type { NewRun, RunRecord } from "../store/store.ts";
import { idempotencyHolder } from "./idempotency-holder.ts";
import { newRunParams, toRun } from "./rows.ts";
import type { prepareStatements } from "./statements.ts";

export type CreateResult = { run: RunRecord; created: boolean; debounced?: boolean };

/**
 * Inserts one run inside the caller's transaction, or finds the run it is: a start whose
 * idempotency key is held within its window returns the holder, a debounced start folds into
 * its pending run, and an id that exists returns that run (`created: false`).
 */
export function createOneRun(
  sql: ReturnType<typeof prepareStatements>,
  run: NewRun,
  claim: { owner: string; leaseUntil: number } | undefined,
): CreateResult {
  const holder = idempotencyHolder(sql, run);
  if (holder) return { run: holder, created: false };
  if (run.debounce && !claim) {
    const at = run.createdAt + run.debounce.periodMs;
    const row = sql.debounceRun.get(run.input, at, run.createdAt, run.workflow, run.debounce.key);
    if (row) return { run: toRun(row), created: false, debounced: true };
  }
  const inserted = sql.insertRun.get(newRunParams(run, claim));
  if (inserted) return { run: toRun(inserted), created: true };
  return { run: toRun(sql.getRun.get(run.id)), created: false };
}
