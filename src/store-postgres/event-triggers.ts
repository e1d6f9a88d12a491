import type { Sql } from "postgres";
import { pipelinedTransaction } from "./pipeline.ts";

/** Replaces a workflow's event triggers in one transaction. */
export async function setEventTriggers(
  sql: Sql,
  workflow: string,
  triggers: readonly { event: string; condition: string }[],
  at: number,
): Promise<void> {
  await pipelinedTransaction(sql, async (tx, send) => {
    void send(tx`DELETE FROM event_triggers WHERE workflow = ${workflow}`);
    if (triggers.length === 0) return;
    // DO NOTHING, not DO UPDATE: a trigger declared twice is stored once, as SQLite's
    // INSERT OR REPLACE does, where DO UPDATE fails on touching one row twice.
    void send(tx`INSERT INTO event_triggers (workflow, event, condition, updated_at)
      SELECT ${workflow}, t.event, t.condition, ${at}::bigint
      FROM unnest(${triggers.map((t) => t.event)}::text[],
        ${triggers.map((t) => t.condition)}::text[]) AS t(event, condition)
      ON CONFLICT (workflow, event, condition) DO NOTHING`);
  });
}

/** The workflows an event triggers, with their conditions, by workflow. */
export async function eventTriggers(
  sql: Sql,
  event: string,
): Promise<{ workflow: string; condition: string }[]> {
  const rows = await sql`SELECT workflow, condition FROM event_triggers
    WHERE event = ${event} ORDER BY workflow`;
  return rows.map((row) => ({
    workflow: row.workflow as string,
    condition: row.condition as string,
  }));
}
