import type { Sql } from "postgres";
import type { QueueStats } from "../store/store.ts";

/** Due, running and waiting run counts and the oldest due run, in one scan of the live rows. */
export async function queueStats(sql: Sql, now: number): Promise<QueueStats> {
  const [row] = await sql`SELECT
      count(*) FILTER (WHERE status IN ('queued', 'waiting') AND available_at <= ${now}) AS due,
      min(available_at) FILTER (WHERE status IN ('queued', 'waiting')
        AND available_at <= ${now}) AS oldest,
      count(*) FILTER (WHERE status = 'running') AS running,
      count(*) FILTER (WHERE status = 'waiting') AS waiting
    FROM runs WHERE available_at IS NOT NULL OR status = 'waiting'`;
  return {
    due: Number(row?.due ?? 0),
    oldestDueAt: row?.oldest == null ? null : Number(row.oldest),
    running: Number(row?.running ?? 0),
    waiting: Number(row?.waiting ?? 0),
  };
}
