import type Database from "better-sqlite3";
import { CairnError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { NewRun, RunRecord } from "../store/store.ts";
import { toLog, toWorker } from "../store/ui-rows.ts";
import type { UiStore } from "../store/ui-store.ts";
import { entryParams } from "./commit-batch.ts";
import { toRun } from "./rows.ts";

const statementSql = {
  // A line of a run deleted meanwhile (retention) is dropped rather than failing the batch.
  appendLog: `INSERT INTO step_logs (run_id, step_key, attempt, level, message, fields, at, truncated)
      SELECT @run_id, @step_key, @attempt, @level, @message, @fields, @at, @truncated
      WHERE EXISTS (SELECT 1 FROM runs WHERE id = @run_id) RETURNING seq`,
  listLogs: `SELECT * FROM step_logs WHERE run_id = @run_id AND seq > @after
        AND (@step_key IS NULL OR step_key = @step_key)
      ORDER BY seq LIMIT (SELECT @limit)`,
  beat: `INSERT INTO workers (id, host, pid, queues, workflows, concurrency, started_at,
        last_seen_at, expires_at)
      VALUES (@id, @host, @pid, @queues, @workflows, @concurrency, @started_at, @last_seen_at, @expires_at)
      ON CONFLICT (id) DO UPDATE SET queues = excluded.queues, workflows = excluded.workflows,
        concurrency = excluded.concurrency, last_seen_at = excluded.last_seen_at,
        expires_at = excluded.expires_at`,
  expireWorkers: "DELETE FROM workers WHERE expires_at < ?",
  listWorkers: "SELECT * FROM workers WHERE expires_at >= ? ORDER BY started_at, id",
  leasedRuns: "SELECT id, lease_owner FROM runs WHERE status = 'running' ORDER BY id",
  removeWorker: "DELETE FROM workers WHERE id = ?",
  recordEventRun: "INSERT OR IGNORE INTO event_runs (event_id, relation, run_id) VALUES (?, ?, ?)",
  eventRuns: `SELECT event_id, relation, run_id FROM event_runs
      WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY run_id`,
  setTag: `INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)
      ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`,
  tagsOf: `SELECT run_id, key, value FROM run_tags
      WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY key`,
  children: "SELECT id FROM runs WHERE parent_id = ? ORDER BY created_at, id",
  insertEntry: `INSERT INTO steps (run_id, position, key, kind, status, output, error, attempt,
        started_at, finished_at, wake_at, detail, seq)
      VALUES (@run_id, @position, @key, @kind, @status, @output, @error, @attempt,
        @started_at, @finished_at, @wake_at, @detail, @seq)`,
  getRun: "SELECT * FROM runs WHERE id = ?",
} as const;

type Statements = { readonly [K in keyof typeof statementSql]: Database.Statement };

/**
 * The web UI's part of the SQLite store (logs, workers, event links, tags, reruns).
 * `write` runs its argument in an immediate transaction; `insertRun` is the store's own
 * insert of a new run, so a rerun is created exactly like a start.
 */
export function sqliteUi(
  db: () => Database.Database,
  write: <T>(fn: () => T) => Promise<T>,
  insertRun: (run: NewRun) => boolean,
): UiStore {
  let prepared: Statements | undefined;
  const sql = (): Statements => {
    if (!prepared) {
      const all: Record<string, Database.Statement> = {};
      for (const [name, text] of Object.entries(statementSql)) all[name] = db().prepare(text);
      prepared = all as Statements;
    }
    return prepared;
  };
  const setTags = (runId: RunId, tags: Readonly<Record<string, string>>) => {
    for (const [key, value] of Object.entries(tags)) sql().setTag.run(runId, key, value);
  };
  return {
    logs: {
      async append(entries) {
        if (entries.length === 0) return [];
        return write(() =>
          entries.map((e) => {
            const row = sql().appendLog.get({
              run_id: e.runId,
              step_key: e.stepKey,
              attempt: e.attempt,
              level: e.level,
              message: e.message,
              fields: e.fields,
              at: e.at,
              truncated: e.truncated ? 1 : 0,
            }) as { seq: number } | undefined;
            return row ? row.seq : null;
          }),
        );
      },
      async list(runId, filter = {}) {
        return sql()
          .listLogs.all({
            run_id: runId,
            after: filter.afterSeq ?? 0,
            step_key: filter.stepKey ?? null,
            limit: Math.min(filter.limit ?? 1000, 10_000),
          })
          .map((row) => toLog(row as Record<string, unknown>));
      },
    },
    workers: {
      async beat(worker) {
        await write(() => {
          sql().expireWorkers.run(worker.lastSeenAt);
          sql().beat.run({
            id: worker.id,
            host: worker.host,
            pid: worker.pid,
            queues: JSON.stringify(worker.queues),
            workflows: JSON.stringify(worker.workflows),
            concurrency: worker.concurrency,
            started_at: worker.startedAt,
            last_seen_at: worker.lastSeenAt,
            expires_at: worker.expiresAt,
          });
        });
      },
      async list(now) {
        const rows = sql().listWorkers.all(now) as Record<string, unknown>[];
        const held = new Map<string, RunId[]>();
        for (const r of sql().leasedRuns.all() as { id: RunId; lease_owner: string | null }[]) {
          if (r.lease_owner === null) continue;
          held.set(r.lease_owner, [...(held.get(r.lease_owner) ?? []), r.id]);
        }
        return rows.map((row) => ({ ...toWorker(row), runs: held.get(row.id as string) ?? [] }));
      },
      async remove(id) {
        await write(() => sql().removeWorker.run(id));
      },
    },
    eventRuns: {
      async record(eventId, started, woke) {
        if (started.length === 0 && woke.length === 0) return;
        await write(() => {
          for (const runId of started) sql().recordEventRun.run(eventId, "started", runId);
          for (const runId of woke) sql().recordEventRun.run(eventId, "woke", runId);
        });
      },
      async list(eventIds) {
        const links = new Map(
          eventIds.map((id) => [id, { started: [] as RunId[], woke: [] as RunId[] }]),
        );
        const rows = sql().eventRuns.all(JSON.stringify(eventIds)) as {
          event_id: string;
          relation: "started" | "woke";
          run_id: RunId;
        }[];
        for (const row of rows) links.get(row.event_id)?.[row.relation].push(row.run_id);
        return links;
      },
    },
    tags: {
      async set(runId, tags) {
        await write(() => setTags(runId, tags));
      },
      async get(runIds) {
        const tags = new Map<RunId, Record<string, string>>(runIds.map((id) => [id, {}]));
        const rows = sql().tagsOf.all(JSON.stringify(runIds)) as {
          run_id: RunId;
          key: string;
          value: string;
        }[];
        for (const row of rows) {
          const of = tags.get(row.run_id);
          if (of) of[row.key] = row.value;
        }
        return tags;
      },
    },
    async childRunIds(runId) {
      return (sql().children.all(runId) as { id: RunId }[]).map((r) => r.id);
    },
    async createRunWithJournal(run, journal, tags): Promise<RunRecord> {
      return write(() => {
        if (!insertRun(run)) {
          throw new CairnError("INVALID_STATE", `A run with id "${run.id}" already exists.`);
        }
        for (const e of journal) {
          sql().insertEntry.run(entryParams(run.id, e));
        }
        setTags(run.id, tags);
        return toRun(sql().getRun.get(run.id));
      });
    },
  };
}
