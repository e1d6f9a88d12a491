/**
 * Read-only looks at the engine's PostgreSQL schema from the harness: snapshots in the
 * crash tests' `DbSnapshot` shape (so their `SnapshotTracker` and checker apply as they
 * are), and the journal's uniqueness, both as a constraint and as data.
 */
import postgres from "postgres";
import { keepFetchedTypes } from "../../src/store-postgres/recycling-pool.ts";
import { type DbSnapshot, type RunRow, type StepRow, stepId } from "../crash/db.ts";

export interface Inspector {
  /** Runs and journal in one REPEATABLE READ transaction: a consistent cut. */
  snapshot(): Promise<DbSnapshot>;
  /** The unique constraints and indexes on `steps`, as sorted column lists. */
  journalUniqueKeys(): Promise<string[][]>;
  /** `(run_id, key)` pairs with more than one journal entry (must be none). */
  journalDuplicates(): Promise<{ run_id: string; key: string; n: number }[]>;
  /** Runs not yet completed, failed or cancelled. */
  unfinished(): Promise<number>;
  /** Keys of `steps` in `status` for these runs, e.g. the event waits in progress. */
  entries(runIds: readonly string[], key: string, status: string): Promise<string[]>;
  sql: postgres.Sql;
  close(): Promise<void>;
}

const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

export async function inspector(url: string, schema: string): Promise<Inspector> {
  const sql = postgres(url, {
    max: 2,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { search_path: `"${schema}"`, application_name: "cairn-fault-harness" },
  });
  // A restart that reset a reconnected connection while it fetched the array types ended
  // the test run with an unhandled rejection (Q-P1): fetch them once, before any fault.
  await sql`SELECT 1`;
  keepFetchedTypes(sql);
  return {
    sql,
    async snapshot() {
      const started = performance.now();
      const { runRows, stepRows } = await sql.begin(
        "ISOLATION LEVEL REPEATABLE READ",
        async (tx) => {
          const runRows = await tx`SELECT id, status, output, available_at, lease_owner,
            fencing_token FROM runs`;
          const stepRows = await tx`SELECT run_id, position, key, kind, status, output, attempt,
            wake_at, finished_at FROM steps`;
          return { runRows, stepRows };
        },
      );
      const runs = new Map<string, RunRow>();
      for (const r of runRows) {
        runs.set(r.id, {
          id: r.id,
          status: r.status,
          output: r.output,
          available_at: num(r.available_at),
          lease_owner: r.lease_owner,
          fencing_token: Number(r.fencing_token),
        });
      }
      const steps = new Map<string, StepRow>();
      for (const s of stepRows) {
        steps.set(stepId(s.run_id, s.key), {
          run_id: s.run_id,
          position: Number(s.position),
          key: s.key,
          kind: s.kind,
          status: s.status,
          output: s.output,
          attempt: Number(s.attempt),
          wake_at: num(s.wake_at),
          finished_at: num(s.finished_at),
        });
      }
      return {
        exists: true,
        // PostgreSQL checks its own pages; what matters here is what the rows say.
        integrity: ["ok"],
        foreignKeyViolations: 0,
        schemaConsistent: true,
        runs,
        steps,
        ms: performance.now() - started,
        readAt: Date.now(),
      };
    },
    async journalUniqueKeys() {
      const rows = await sql`SELECT array_agg(a.attname::text ORDER BY a.attname) AS columns
        FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = ${`"${schema}".steps`}::regclass AND i.indisunique
          AND i.indpred IS NULL
        GROUP BY i.indexrelid`;
      return rows.map((r) => r.columns as string[]).sort();
    },
    async journalDuplicates() {
      const rows = await sql`SELECT run_id, key, count(*)::int AS n FROM steps
        GROUP BY run_id, key HAVING count(*) > 1`;
      return rows.map((r) => ({ run_id: r.run_id, key: r.key, n: r.n }));
    },
    async unfinished() {
      const [row] = await sql`SELECT count(*)::int AS n FROM runs
        WHERE status NOT IN ('completed', 'failed', 'cancelled')`;
      return row?.n ?? 0;
    },
    async entries(runIds, key, status) {
      if (runIds.length === 0) return [];
      const rows = await sql`SELECT run_id FROM steps
        WHERE run_id = ANY(${runIds as string[]}) AND key = ${key} AND status = ${status}`;
      return rows.map((r) => r.run_id as string);
    },
    close: () => sql.end({ timeout: 2 }),
  };
}
