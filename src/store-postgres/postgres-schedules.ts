import type { Sql } from "postgres";
import { CairnError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { Store } from "../store/store.ts";
import { pipelinedTransaction } from "./pipeline.ts";
import { toSchedule } from "./rows.ts";
import { insertRuns } from "./run-statements.ts";

/** The schedules part of the PostgreSQL store. */
export function postgresSchedules(sql: Sql): Store["schedules"] {
  const get = async (id: string) => {
    const [row] = await sql`SELECT * FROM schedules WHERE id = ${id}`;
    return row ? toSchedule(row) : undefined;
  };
  return {
    async upsert(schedule, at) {
      // A changed cron or zone takes the new next slot; otherwise the old one stays, so
      // re-registering a workflow's cron trigger on every start loses no missed slot.
      const paused = schedule.paused ?? null;
      const [row] = await sql`INSERT INTO schedules (id, workflow, cron, tz, input, overlap,
          catchup, paused, next_at, source, created_at, updated_at)
        VALUES (${schedule.id}, ${schedule.workflow}, ${schedule.cron}, ${schedule.tz},
          ${schedule.input}, ${schedule.overlap}, ${schedule.catchup},
          coalesce(${paused}::boolean, FALSE), ${schedule.nextAt}, ${schedule.source}, ${at}, ${at})
        ON CONFLICT (id) DO UPDATE SET workflow = excluded.workflow, input = excluded.input,
          next_at = CASE WHEN schedules.cron = excluded.cron AND schedules.tz = excluded.tz
            THEN schedules.next_at ELSE excluded.next_at END,
          cron = excluded.cron, tz = excluded.tz, overlap = excluded.overlap,
          catchup = excluded.catchup, paused = coalesce(${paused}::boolean, schedules.paused),
          source = excluded.source, updated_at = ${at}
        RETURNING *`;
      return toSchedule(row as Record<string, unknown>);
    },
    get,
    async list() {
      return (await sql`SELECT * FROM schedules ORDER BY id`).map(toSchedule);
    },
    async setPaused(id, paused, at, nextAt) {
      const [row] = await sql`UPDATE schedules SET paused = ${paused},
          next_at = coalesce(${nextAt ?? null}::bigint, next_at), updated_at = ${at}
        WHERE id = ${id} RETURNING *`;
      if (!row) throw new CairnError("NOT_FOUND", `No schedule with id "${id}".`);
      return toSchedule(row);
    },
    async delete(id) {
      return (await sql`DELETE FROM schedules WHERE id = ${id}`).count > 0;
    },
    /**
     * Due schedules are locked with SKIP LOCKED: schedulers in several processes share the
     * due ones without waiting for each other, and a slot's run is created at most once
     * (the unique index on `(schedule_id, slot_at)` backs this up).
     */
    async fireDue(now, limit, plan, workflows) {
      return pipelinedTransaction(sql, async (tx, send, commit) => {
        const due = (
          await send(tx`SELECT * FROM schedules WHERE NOT paused AND next_at <= ${now}
            ${workflows ? tx`AND workflow = ANY(${workflows as string[]}::text[])` : tx``}
            ORDER BY next_at, id LIMIT ${limit}
            FOR UPDATE SKIP LOCKED`)
        ).map(toSchedule);
        if (due.length === 0) return { schedules: 0, created: [] as RunId[] };
        const active = new Set(
          (
            await send(tx`SELECT DISTINCT schedule_id FROM runs
              WHERE schedule_id = ANY(${due.map((s) => s.id)}::text[])
                AND status NOT IN ('completed', 'failed', 'cancelled')`)
          ).map((row) => row.schedule_id as string),
        );
        const decided = due.map((schedule) => ({
          schedule,
          ...plan(schedule, active.has(schedule.id)),
        }));
        const runs = decided.flatMap((d) => d.runs);
        const inserted = runs.length > 0 ? send(insertRuns(tx, runs)) : null;
        void send(tx`UPDATE schedules s SET next_at = v.next_at, updated_at = ${now}
          FROM unnest(${decided.map((d) => d.schedule.id)}::text[],
            ${decided.map((d) => d.nextAt)}::bigint[]) AS v(id, next_at)
          WHERE s.id = v.id`);
        await commit();
        const created = inserted ? (await inserted).map((row) => row.id as RunId) : [];
        return { schedules: due.length, created };
      });
    },
    async createRuns(runs) {
      if (runs.length === 0) return [];
      return (await insertRuns(sql, runs)).map((row) => row.id as RunId);
    },
  };
}
