import type { Sql } from "postgres";
import { CairnError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { RunRecord } from "../store/store.ts";
import { toLog, toWorker } from "../store/ui-rows.ts";
import type { UiStore } from "../store/ui-store.ts";
import { toRun } from "./rows.ts";
import { insertRuns } from "./run-statements.ts";

/** The web UI's part of the PostgreSQL store (logs, workers, event links, tags, reruns). */
export function postgresUi(sql: Sql): UiStore {
  return {
    logs: {
      async append(entries) {
        if (entries.length === 0) return [];
        const col = <T>(pick: (e: (typeof entries)[number]) => T) => entries.map(pick);
        // One statement for the batch; lines of runs deleted meanwhile are dropped. Identity
        // values are drawn in the order the rows are inserted, which is `ord` order.
        const rows = await sql`INSERT INTO step_logs (run_id, step_key, attempt, level, message,
            fields, at, truncated)
          SELECT l.run_id, l.step_key, l.attempt, l.level, l.message, l.fields, l.at,
            l.truncated::boolean
          FROM unnest(${col((e) => e.runId)}::text[], ${col((e) => e.stepKey)}::text[],
            ${col((e) => e.attempt)}::int[], ${col((e) => e.level)}::text[],
            ${col((e) => e.message)}::text[], ${col((e) => e.fields)}::text[],
            ${col((e) => e.at)}::bigint[], ${col((e) => (e.truncated ? "t" : "f"))}::text[])
            WITH ORDINALITY AS l(run_id, step_key, attempt, level, message, fields, at, truncated, ord)
          WHERE EXISTS (SELECT 1 FROM runs r WHERE r.id = l.run_id)
          ORDER BY l.ord
          RETURNING seq, run_id`;
        const kept = new Set(rows.map((r) => r.run_id as string));
        const seqs = rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
        let next = 0;
        return entries.map((e) => (kept.has(e.runId) ? (seqs[next++] ?? null) : null));
      },
      async list(runId, filter = {}) {
        const rows = await sql`SELECT * FROM step_logs WHERE run_id = ${runId}
            AND seq > ${filter.afterSeq ?? 0}
            ${filter.stepKey === undefined ? sql`` : sql`AND step_key = ${filter.stepKey}`}
          ORDER BY seq LIMIT ${Math.min(filter.limit ?? 1000, 10_000)}`;
        return rows.map((row) => toLog(row));
      },
    },
    workers: {
      async beat(worker) {
        await sql`WITH expired AS (DELETE FROM workers WHERE expires_at < ${worker.lastSeenAt})
          INSERT INTO workers (id, host, pid, queues, workflows, concurrency, started_at,
            last_seen_at, expires_at)
          VALUES (${worker.id}, ${worker.host}, ${worker.pid}, ${JSON.stringify(worker.queues)},
            ${JSON.stringify(worker.workflows)}, ${worker.concurrency}, ${worker.startedAt},
            ${worker.lastSeenAt}, ${worker.expiresAt})
          ON CONFLICT (id) DO UPDATE SET queues = excluded.queues, workflows = excluded.workflows,
            concurrency = excluded.concurrency, last_seen_at = excluded.last_seen_at,
            expires_at = excluded.expires_at`;
      },
      async list(now) {
        const rows = await sql`SELECT w.*, coalesce((SELECT array_agg(r.id ORDER BY r.id)
            FROM runs r WHERE r.status = 'running' AND r.lease_owner = w.id), '{}') AS runs
          FROM workers w WHERE w.expires_at >= ${now} ORDER BY w.started_at, w.id`;
        return rows.map((row) => ({ ...toWorker(row), runs: row.runs as RunId[] }));
      },
      async remove(id) {
        await sql`DELETE FROM workers WHERE id = ${id}`;
      },
    },
    eventRuns: {
      async record(eventId, started, woke) {
        const links = [
          ...started.map((runId) => ["started", runId]),
          ...woke.map((runId) => ["woke", runId]),
        ];
        if (links.length === 0) return;
        await sql`INSERT INTO event_runs (event_id, relation, run_id)
          SELECT ${eventId}, l.relation, l.run_id
          FROM unnest(${links.map((l) => l[0] as string)}::text[],
            ${links.map((l) => l[1] as string)}::text[]) AS l(relation, run_id)
          ON CONFLICT DO NOTHING`;
      },
      async list(eventIds) {
        const links = new Map(
          eventIds.map((id) => [id, { started: [] as RunId[], woke: [] as RunId[] }]),
        );
        if (eventIds.length === 0) return links;
        const rows = await sql`SELECT event_id, relation, run_id FROM event_runs
          WHERE event_id = ANY(${eventIds as string[]}::text[]) ORDER BY run_id`;
        for (const row of rows) {
          links
            .get(row.event_id as string)
            ?.[row.relation as "started" | "woke"].push(row.run_id as RunId);
        }
        return links;
      },
    },
    tags: {
      async set(runId, tags) {
        const entries = Object.entries(tags);
        if (entries.length === 0) return;
        await setTags(sql, runId, entries);
      },
      async get(runIds) {
        const tags = new Map<RunId, Record<string, string>>(runIds.map((id) => [id, {}]));
        if (runIds.length === 0) return tags;
        const rows = await sql`SELECT run_id, key, value FROM run_tags
          WHERE run_id = ANY(${[...runIds] as string[]}::text[]) ORDER BY key`;
        for (const row of rows) {
          const of = tags.get(row.run_id as RunId);
          if (of) of[row.key as string] = row.value as string;
        }
        return tags;
      },
    },
    async childRunIds(runId) {
      const rows = await sql`SELECT id FROM runs WHERE parent_id = ${runId}
        ORDER BY created_at, id`;
      return rows.map((r) => r.id as RunId);
    },
    async createRunWithJournal(run, journal, tags): Promise<RunRecord> {
      return sql.begin(async (tx) => {
        const [inserted] = await insertRuns(tx as unknown as Sql, [run]);
        if (!inserted) {
          throw new CairnError("INVALID_STATE", `A run with id "${run.id}" already exists.`);
        }
        if (journal.length > 0) {
          const col = <T>(pick: (e: (typeof journal)[number]) => T) => journal.map(pick);
          await tx`INSERT INTO steps (run_id, position, key, kind, status, output, error, attempt,
              started_at, finished_at, wake_at, detail, seq)
            SELECT ${run.id}, e.* FROM unnest(${col((e) => e.position)}::int[],
              ${col((e) => e.key)}::text[], ${col((e) => e.kind)}::text[],
              ${col((e) => e.status)}::text[], ${col((e) => e.output)}::text[],
              ${col((e) => e.error)}::text[], ${col((e) => e.attempt)}::int[],
              ${col((e) => e.startedAt)}::bigint[], ${col((e) => e.finishedAt)}::bigint[],
              ${col((e) => e.wakeAt)}::bigint[], ${col((e) => e.detail)}::text[],
              ${col((e) => e.seq)}::int[])
              AS e(position, key, kind, status, output, error, attempt, started_at,
                finished_at, wake_at, detail, seq)`;
        }
        const entries = Object.entries(tags);
        if (entries.length > 0) await setTags(tx as unknown as Sql, run.id, entries);
        return toRun(inserted);
      }) as Promise<RunRecord>;
    },
  };
}

function setTags(sql: Sql, runId: RunId, entries: [string, string][]) {
  return sql`INSERT INTO run_tags (run_id, key, value)
    SELECT ${runId}, t.key, t.value
    FROM unnest(${entries.map((e) => e[0])}::text[], ${entries.map((e) => e[1])}::text[])
      AS t(key, value)
    ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`;
}
