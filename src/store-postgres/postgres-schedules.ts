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
     * (the unique index on `(schedule_id, slot_at)` backs this up). Set-based: one read of
     * every due schedule, then one insert of all their runs and one update of all their
     * next slots, pipelined with the commit; two round trips whatever the number due (after
     * the read below that finds whether any is).
     */
    async fireDue(now, limit, plan, workflows) {
      // Most passes find nothing due: a plain read says so in one round trip, where the
      // transaction takes two and a reserved connection, on every claim pass of every worker.
      const [due] = await sql`SELECT 1 FROM schedules WHERE NOT paused AND next_at <= ${now}
        ${workflows ? sql`AND workflow = ANY(${workflows as string[]}::text[])` : sql``} LIMIT 1`;
      if (!due) return { schedules: 0, created: [] as RunId[] };
      return pipelinedTransaction(sql, async (tx, send, commit) => {
        // Whether each has an active run comes with it: one round trip before the plan.
        const rows = await send(tx`SELECT s.*, EXISTS (SELECT 1 FROM runs r
              WHERE r.schedule_id = s.id
                AND r.status NOT IN ('completed', 'failed', 'cancelled')) AS has_active
            FROM schedules s WHERE NOT s.paused AND s.next_at <= ${now}
            ${workflows ? tx`AND s.workflow = ANY(${workflows as string[]}::text[])` : tx``}
            ORDER BY s.next_at, s.id LIMIT ${limit}
            FOR UPDATE OF s SKIP LOCKED`);
        if (rows.length === 0) return { schedules: 0, created: [] as RunId[] };
        const decided = rows.map((row) => {
          const schedule = toSchedule(row);
          return { schedule, ...plan(schedule, row.has_active === true) };
        });
        const runs = decided.flatMap((d) => d.runs);
        const inserted = runs.length > 0 ? send(insertRuns(tx, runs)) : null;
        void send(tx`UPDATE schedules s SET next_at = v.next_at, updated_at = ${now}
          FROM unnest(${decided.map((d) => d.schedule.id)}::text[],
            ${decided.map((d) => d.nextAt)}::bigint[]) AS v(id, next_at)
          WHERE s.id = v.id`);
        await commit();
        const created = inserted ? (await inserted).map((row) => row.id as RunId) : [];
        return { schedules: decided.length, created };
      });
    },
    async createRuns(runs) {
      if (runs.length === 0) return [];
      return (await insertRuns(sql, runs)).map((row) => row.id as RunId);
    },
  };
}
