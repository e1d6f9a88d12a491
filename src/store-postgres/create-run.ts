import type { Sql } from "postgres";
import { CairnError } from "../core/errors.ts";
import type { NewRun, RunRecord } from "../store/store.ts";
import { idempotencyHolder } from "./idempotency-holder.ts";
import { pipelinedTransaction } from "./pipeline.ts";
import { toRun } from "./rows.ts";
import { insertRuns, lockAdvisory, lockKey } from "./run-statements.ts";

/**
 * Creates one run in its own transaction, or finds the run it is: a start whose idempotency
 * key is held within its window returns the holder, a debounced start folds into its burst's
 * pending run, and an id that exists returns that run (`created: false`). Starts with neither
 * option go through the start batcher instead.
 */
export function createOneRun(
  sql: Sql,
  run: NewRun,
  claim: { owner: string; leaseUntil: number } | undefined,
): Promise<{ run: RunRecord; created: boolean; debounced?: boolean }> {
  const { debounce } = run;
  const debounced = debounce && !claim;
  return pipelinedTransaction(sql, async (tx, send) => {
    const holder = await idempotencyHolder(tx, send, run);
    if (holder) return { run: toRun(holder), created: false };
    // The last start of a burst wins: its input, and the quiet period starts again. The
    // debounce key's lock makes concurrent starts of one burst find each other.
    if (debounced) {
      void send(lockAdvisory(tx, [lockKey.debounce(run.workflow, debounce.key)]));
      const [folded] = await send(tx`UPDATE runs SET input = ${run.input},
          available_at = ${run.createdAt + debounce.periodMs}, updated_at = ${run.createdAt}
        WHERE id = (SELECT id FROM runs WHERE workflow = ${run.workflow}
            AND debounce_key = ${debounce.key} AND status = 'queued' AND started_at IS NULL
            ORDER BY created_at LIMIT 1)
          AND status = 'queued' AND started_at IS NULL
        RETURNING *`);
      if (folded) return { run: toRun(folded), created: false, debounced: true };
    }
    const [inserted] = await send(insertRuns(tx, [run], [claim]));
    if (inserted) return { run: toRun(inserted), created: true };
    const [existing] = await send(tx`SELECT * FROM runs WHERE id = ${run.id}`);
    if (!existing) throw new CairnError("RUN_NOT_FOUND", `Run "${run.id}" vanished.`);
    return { run: toRun(existing), created: false };
  });
}
