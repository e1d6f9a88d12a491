import type Database from "better-sqlite3";
import { CairnError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { NewRun, ScheduleRecord, Store } from "../store/store.ts";
import { toSchedule } from "./rows.ts";

/** The schedules part of the SQLite store; `write` runs its argument in an immediate transaction. */
export function sqliteSchedules(
  db: () => Database.Database,
  write: <T>(fn: () => T) => Promise<T>,
  insertRun: (run: NewRun) => boolean,
): Store["schedules"] {
  let statements: ReturnType<typeof prepare> | undefined;
  const sql = () => {
    statements ??= prepare(db());
    return statements;
  };
  const get = (id: string) => {
    const row = sql().get.get(id);
    return row ? toSchedule(row) : undefined;
  };
  const insertRuns = (runs: readonly NewRun[]) => {
    const created: RunId[] = [];
    for (const run of runs) {
      if (insertRun(run)) created.push(run.id);
    }
    return created;
  };
  return {
    async upsert(schedule, at) {
      return write(() => {
        sql().upsert.run({
          id: schedule.id,
          workflow: schedule.workflow,
          cron: schedule.cron,
          tz: schedule.tz,
          input: schedule.input,
          overlap: schedule.overlap,
          catchup: schedule.catchup,
          paused: schedule.paused === undefined ? null : Number(schedule.paused),
          next_at: schedule.nextAt,
          source: schedule.source,
          at,
        });
        return get(schedule.id) as ScheduleRecord;
      });
    },
    async get(id) {
      return get(id);
    },
    async list() {
      return sql().list.all().map(toSchedule);
    },
    async setPaused(id, paused, at, nextAt) {
      return write(() => {
        const changed = sql().setPaused.run(Number(paused), nextAt ?? null, at, id).changes;
        if (changed === 0) throw new CairnError("NOT_FOUND", `No schedule with id "${id}".`);
        return get(id) as ScheduleRecord;
      });
    },
    async delete(id) {
      return write(() => sql().delete.run(id).changes > 0);
    },
    async fireDue(now, limit, plan, workflows) {
      // The common case, nothing due, costs one read and no write lock.
      if (sql().anyDue.get(now) === undefined) return { schedules: 0, created: [] };
      return write(() => {
        const due = sql()
          .due.all({ now, workflows: JSON.stringify(workflows ?? null), limit })
          .map(toSchedule);
        const created: RunId[] = [];
        for (const schedule of due) {
          const hasActiveRun = sql().activeRun.get(schedule.id) !== undefined;
          const decided = plan(schedule, hasActiveRun);
          created.push(...insertRuns(decided.runs));
          sql().advance.run(decided.nextAt, now, schedule.id);
        }
        return { schedules: due.length, created };
      });
    },
    async createRuns(runs) {
      return write(() => insertRuns(runs));
    },
  };
}

function prepare(db: Database.Database) {
  const p = (text: string) => db.prepare(text);
  return {
    get: p("SELECT * FROM schedules WHERE id = ?"),
    list: p("SELECT * FROM schedules ORDER BY id"),
    // A changed cron, zone or policy takes the new next slot; otherwise the old one stays,
    // so re-registering a workflow's cron trigger on every start loses no missed slot.
    upsert:
      p(`INSERT INTO schedules (id, workflow, cron, tz, input, overlap, catchup, paused, next_at,
        source, created_at, updated_at)
      VALUES (@id, @workflow, @cron, @tz, @input, @overlap, @catchup, coalesce(@paused, 0), @next_at,
        @source, @at, @at)
      ON CONFLICT (id) DO UPDATE SET workflow = excluded.workflow, input = excluded.input,
        next_at = CASE WHEN schedules.cron = excluded.cron AND schedules.tz = excluded.tz
          THEN schedules.next_at ELSE excluded.next_at END,
        cron = excluded.cron, tz = excluded.tz, overlap = excluded.overlap, catchup = excluded.catchup,
        paused = coalesce(@paused, schedules.paused), source = excluded.source, updated_at = @at`),
    setPaused: p(`UPDATE schedules SET paused = ?, next_at = coalesce(?, next_at), updated_at = ?
      WHERE id = ?`),
    delete: p("DELETE FROM schedules WHERE id = ?"),
    due: p(`SELECT * FROM schedules WHERE paused = 0 AND next_at <= @now
        AND (@workflows = 'null' OR workflow IN (SELECT value FROM json_each(@workflows)))
      ORDER BY next_at LIMIT @limit`),
    anyDue: p("SELECT 1 FROM schedules WHERE paused = 0 AND next_at <= ? LIMIT 1"),
    activeRun: p(`SELECT 1 FROM runs WHERE schedule_id = ?
        AND status NOT IN ('completed', 'failed', 'cancelled') LIMIT 1`),
    advance: p("UPDATE schedules SET next_at = ?, updated_at = ? WHERE id = ?"),
  };
}
