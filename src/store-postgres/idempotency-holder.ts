import type { ReservedSql, Row } from "postgres";
import type { NewRun } from "../store/store.ts";
import type { Send } from "./pipeline.ts";

/**
 * Takes the run's idempotency key (table `run_idempotency`, one row per workflow and key),
 * or returns the row of the run holding it within the window. Inside the transaction that
 * inserts the run: the key row stays locked until it commits.
 *
 * Race: two starts of one key insert the same primary key; the second waits for the first
 * to commit, then `ON CONFLICT DO UPDATE … WHERE` sees the first's row (too recent: no
 * update) and the next statement, with a new snapshot under READ COMMITTED, reads its run.
 * A holder that was purged is replaced by compare-and-set on its id, in a statement of its
 * own: a subquery inside the upsert would read the runs with the statement's older snapshot
 * and could miss a holder committed while it waited.
 */
export async function idempotencyHolder(
  tx: ReservedSql,
  send: Send,
  run: NewRun,
): Promise<Row | undefined> {
  const { idempotency } = run;
  if (!idempotency) return undefined;
  const { workflow, id, createdAt } = run;
  const { key } = idempotency;
  const [taken] = await send(tx`INSERT INTO run_idempotency (workflow, key, run_id, created_at)
    VALUES (${workflow}, ${key}, ${id}, ${createdAt})
    ON CONFLICT (workflow, key) DO UPDATE
      SET run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at
      WHERE run_idempotency.created_at <= ${createdAt - idempotency.ttlMs}
    RETURNING run_id`);
  if (taken) return undefined;
  for (;;) {
    const [held] = await send(tx`SELECT k.run_id AS holder_id, r.* FROM run_idempotency k
      LEFT JOIN runs r ON r.id = k.run_id WHERE k.workflow = ${workflow} AND k.key = ${key}`);
    if (held?.id) {
      const { holder_id: _, ...holder } = held;
      return holder;
    }
    const [replaced] = await send(tx`UPDATE run_idempotency
      SET run_id = ${id}, created_at = ${createdAt}
      WHERE workflow = ${workflow} AND key = ${key} AND run_id = ${held?.holder_id ?? null}
      RETURNING run_id`);
    if (replaced) return undefined;
  }
}
