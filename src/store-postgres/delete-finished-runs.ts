import type { Sql } from "postgres";
import { yieldToEventLoop } from "../core/yield-to-event-loop.ts";

/**
 * Deletes finished runs older than `before` (ms), with their journal and log lines; returns
 * how many. With `limit`, at most that many (the oldest), in one short transaction.
 */
export async function deleteFinishedRuns(
  sql: Sql,
  before: number,
  limit?: number,
): Promise<number> {
  if (limit !== undefined) return deleteChunk(sql, before, limit);
  // In chunks, each its own short transaction: a million expired runs must not make one
  // statement that outlives statement_timeout or holds a million row locks. Rows another
  // transaction holds are skipped (left for the next sweep) rather than waited for, so
  // retention never queues behind live work. Steps, waits and signals go with their run
  // (ON DELETE CASCADE).
  const chunk = 5_000;
  let deleted = 0;
  for (;;) {
    const count = await deleteChunk(sql, before, chunk);
    deleted += count;
    if (count < chunk) return deleted;
    await yieldToEventLoop();
  }
}

async function deleteChunk(sql: Sql, before: number, limit: number): Promise<number> {
  // Oldest first (runs_finished_at), so a bounded pass makes steady progress.
  // Log lines have no foreign key (see migration 0005) and idempotency keys none either: they
  // go with their run here.
  const result = await sql`WITH gone AS (DELETE FROM runs WHERE id IN (
      SELECT id FROM runs WHERE finished_at < ${before}
        AND status IN ('completed', 'failed', 'cancelled')
      ORDER BY finished_at LIMIT ${limit} FOR UPDATE SKIP LOCKED) RETURNING id),
    logs AS (DELETE FROM step_logs WHERE run_id IN (SELECT id FROM gone)),
    keys AS (DELETE FROM run_idempotency WHERE run_id IN (SELECT id FROM gone))
    SELECT count(*)::int AS count FROM gone`;
  return Number(result[0]?.count ?? 0);
}
