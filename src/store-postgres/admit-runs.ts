import type { Sql } from "postgres";
import type { RunAdmission } from "../store/store.ts";
import { retryingDeadlocks } from "./pipeline.ts";
import { wakeChannel } from "./run-statements.ts";

/**
 * Admits runs started without their workflow's code, or fails them: one statement each for
 * the admitted and the rejected, so a batch of a hundred costs one commit (and one
 * notification per workflow, which PostgreSQL folds within a transaction) rather than a
 * hundred. Conditional on each run still waiting for admission: when two workers admit the
 * same run at once, the second does nothing. Rows are locked in id order, so two workers
 * admitting overlapping batches wait for each other instead of deadlocking.
 */
export async function admitRuns(
  sql: Sql,
  admissions: readonly RunAdmission[],
  at: number,
): Promise<void> {
  const sorted = [...admissions].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const admitted = sorted.flatMap(({ id, admission }) =>
    "error" in admission ? [] : [{ id, ...admission }],
  );
  const rejected = sorted.flatMap(({ id, admission }) =>
    "error" in admission ? [{ id, error: admission.error }] : [],
  );
  if (admitted.length > 0) {
    const col = <T>(pick: (a: (typeof admitted)[number]) => T) => admitted.map(pick);
    await retryingDeadlocks(
      () => sql`WITH a AS (
          SELECT * FROM unnest(${col((a) => a.id)}::text[],
            ${col((a) => a.fields.queue ?? "default")}::text[],
            ${col((a) => a.fields.priority ?? 0)}::int[],
            ${col((a) => a.fields.concurrency?.key ?? null)}::text[],
            ${col((a) => a.fields.concurrency?.limit ?? null)}::int[],
            ${col((a) => a.fields.rateLimit?.key ?? null)}::text[],
            ${col((a) => a.fields.rateLimit?.limit ?? null)}::int[],
            ${col((a) => a.fields.rateLimit?.periodMs ?? null)}::bigint[],
            ${col((a) => a.fields.deadlineAt ?? null)}::bigint[],
            ${col((a) => at + a.delayMs)}::bigint[],
            ${col((a) => a.fields.workflowVersion ?? 1)}::int[])
            AS a(id, queue, priority, concurrency_key, concurrency_limit, rate_key, rate_limit,
              rate_period_ms, deadline_at, available_at, workflow_version)
        ), locked AS (
          SELECT r.id FROM runs r JOIN a ON a.id = r.id
          WHERE NOT r.admitted AND r.status = 'queued' ORDER BY r.id FOR UPDATE OF r
        )
        UPDATE runs r SET admitted = TRUE, queue = a.queue, priority = a.priority,
          concurrency_key = a.concurrency_key, concurrency_limit = a.concurrency_limit,
          rate_key = a.rate_key, rate_limit = a.rate_limit, rate_period_ms = a.rate_period_ms,
          deadline_at = a.deadline_at, available_at = a.available_at, updated_at = ${at},
          workflow_version = a.workflow_version
        FROM a JOIN locked l ON l.id = a.id
        WHERE r.id = a.id AND NOT r.admitted AND r.status = 'queued'
        RETURNING pg_notify(${sql.unsafe(wakeChannel)}, r.workflow) AS notified`,
    );
  }
  if (rejected.length > 0) {
    await retryingDeadlocks(
      () => sql`WITH f AS (
          SELECT * FROM unnest(${rejected.map((r) => r.id)}::text[],
            ${rejected.map((r) => r.error)}::text[]) AS f(id, error)
        ), locked AS (
          SELECT r.id FROM runs r JOIN f ON f.id = r.id
          WHERE NOT r.admitted AND r.status = 'queued' ORDER BY r.id FOR UPDATE OF r
        )
        UPDATE runs r SET admitted = TRUE, status = 'failed', error = f.error,
          finished_at = ${at}, updated_at = ${at}
        FROM f JOIN locked l ON l.id = f.id
        WHERE r.id = f.id AND NOT r.admitted AND r.status = 'queued'`,
    );
  }
}
