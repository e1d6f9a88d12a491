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
  let statements: ReturnType<typeof prepareScheduleStatements> | undefined;
  const sql = () => {
    statements ??= prepareScheduleStatements(db());
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
    /**
     * Set-based: one read finds every due schedule with whether it has an active run, the
     * plans are made in memory, and one statement moves every schedule's next slot on, so a
     * pass over a thousand schedules costs the same few statements as a pass over one.
     */
    async fireDue(now, limit, plan, workflows) {
      // The common case, nothing due, costs one read and no write lock.
      if (sql().anyDue.get(now) === undefined) return { schedules: 0, created: [] };
      return write(() => {
        const due = sql().due.all({
          now,
          workflows: JSON.stringify(workflows ?? null),
          limit,
        }) as Record<string, unknown>[];
        const decided = due.map((row) => {
          const schedule = toSchedule(row);
          return { schedule, ...plan(schedule, row.has_active === 1) };
        });
        const created = insertRuns(decided.flatMap((d) => d.runs));
        const nextSlots = decided.map((d) => [d.schedule.id, d.nextAt]);
        if (nextSlots.length > 0) sql().advance.run({ list: JSON.stringify(nextSlots), now });
        return { schedules: due.length, created };
      });
    },
    async createRuns(runs) {
      return write(() => insertRuns(runs));
    },
  };
}

/** The schedules' statements, prepared on `db` (exported for the query-plan test). */
export function prepareScheduleStatements(
  db: Database.Database,
): Record<
  "get" | "list" | "upsert" | "setPaused" | "delete" | "due" | "anyDue" | "advance",
  Database.Statement
> {
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
    due: p(`SELECT s.*, EXISTS (SELECT 1 FROM runs r WHERE r.schedule_id = s.id
          AND r.status NOT IN ('completed', 'failed', 'cancelled')) AS has_active
      FROM schedules s WHERE s.paused = 0 AND s.next_at <= @now
        AND (@workflows = 'null' OR s.workflow IN (SELECT value FROM json_each(@workflows)))
      ORDER BY s.next_at LIMIT (SELECT @limit)`),
    anyDue: p("SELECT 1 FROM schedules WHERE paused = 0 AND next_at <= ? LIMIT 1"),
    // Every fired schedule's next slot at once, from a JSON list of [id, nextAt] pairs.
    advance: p(`UPDATE schedules SET next_at = json_extract(v.value, '$[1]'), updated_at = @now
      FROM json_each(@list) AS v WHERE schedules.id = json_extract(v.value, '$[0]')`),
  };
}
