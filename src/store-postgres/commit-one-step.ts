import type { Sql } from "postgres";
import type { RunStatus } from "../core/types.ts";
import { entryValues } from "../store/rows.ts";
import type { SetOp as JournalOp, JournalOpResult } from "../store/store.ts";
import { inconsistent } from "./commit-batch.ts";

type EntryOp = Extract<JournalOp, { type: "entry" }>;
type FinishOp = Extract<JournalOp, { type: "complete" | "fail" }>;

/**
 * The batches of a sequential step: one entry of one run, alone or followed by the run's
 * finish with the same token. They are the commit of every sequential step and every one-step
 * run, so they take statements of their own, with a parameter per column where the general
 * ones (`commitEntries`, `commitFinishes`) pass an array per column: postgres.js serializing
 * fifteen arrays and PostgreSQL unnesting them cost about 0.1 ms per commit, a third of the
 * commit. The statements are fixed strings, not composed from fragments (composing cost
 * another 0.03 ms of CPU per step), and their results are read off the one row they return.
 */
export function oneStep(
  ops: readonly JournalOp[],
): { entry: EntryOp; finish?: FinishOp } | undefined {
  const [entry, finish] = ops;
  if (entry?.type !== "entry") return undefined;
  if (ops.length === 1) return { entry };
  if (ops.length > 2 || (finish?.type !== "complete" && finish?.type !== "fail")) return undefined;
  return finish.runId === entry.runId && finish.token === entry.token
    ? { entry, finish }
    : undefined;
}

/** The entry's upsert: $1 the run, $2–$13 the columns, $14 the token it is fenced on. */
const upsertEntry = `INSERT INTO steps (run_id, position, key, kind, status, output, error,
    attempt, started_at, finished_at, wake_at, detail, seq)
  SELECT r.id, $2::int, $3::text, $4::text, $5::text, $6::text, $7::text, $8::int,
    $9::bigint, $10::bigint, $11::bigint, $12::text, $13::int
  FROM locked r WHERE r.status = 'running' AND r.fencing_token = $14::bigint
  ON CONFLICT (run_id, position) DO UPDATE SET status = excluded.status,
    output = excluded.output, error = excluded.error, attempt = excluded.attempt,
    started_at = excluded.started_at, finished_at = excluded.finished_at,
    wake_at = excluded.wake_at, detail = excluded.detail, seq = excluded.seq
  RETURNING 1`;

const oneEntry = `WITH locked AS (
    SELECT id, status, fencing_token FROM runs WHERE id = $1::text FOR UPDATE
  ), written AS (${upsertEntry})
  SELECT status, (SELECT count(*) FROM written)::int AS written FROM locked`;

/** Only for a run with no parent and no concurrency limit (else it writes nothing). */
const oneFinish = `WITH held AS (
    SELECT id, status, fencing_token, parent_id, concurrency_limit FROM runs
    WHERE id = $1::text FOR UPDATE
  ), locked AS (
    SELECT * FROM held WHERE parent_id IS NULL AND concurrency_limit IS NULL
  ), written AS (${upsertEntry}
  ), done AS (
    UPDATE runs r SET status = $15::text, output = $16::text, error = $17::text,
      finished_at = $18::bigint, updated_at = $18::bigint, available_at = NULL,
      lease_owner = NULL
    WHERE r.id = $1::text AND EXISTS (SELECT 1 FROM locked)
      AND r.status = 'running' AND r.fencing_token = $14::bigint
    RETURNING r.id
  ), cleared AS (
    DELETE FROM waits w USING done WHERE w.run_id = done.id
  )
  SELECT status, parent_id IS NULL AND concurrency_limit IS NULL AS unlinked,
    (SELECT count(*) FROM written)::int AS written, (SELECT count(*) FROM done)::int AS finished
  FROM held`;

function entryParameters(op: EntryOp) {
  return [op.runId, ...entryValues(op.entry), op.token];
}

const fenced = (status: unknown): JournalOpResult => ({
  ok: false,
  reason: "fenced",
  status: (status as RunStatus | undefined) ?? null,
});

/** `commitEntries` of one entry: it applies exactly when the upsert wrote its row. */
export async function commitOneEntry(sql: Sql, op: EntryOp): Promise<JournalOpResult[]> {
  const [row] = await sql.unsafe(oneEntry, entryParameters(op) as never[], { prepare: true });
  return [row?.written === 1 ? { ok: true } : fenced(row?.status)];
}

/**
 * `commitFinishes` of one entry and its run's finish: both apply, or neither (one run, one
 * token). Undefined when the run turns out to have a parent or a concurrency limit: nothing
 * was written, and the caller takes the general path.
 */
export async function commitOneFinish(
  sql: Sql,
  entry: EntryOp,
  finish: FinishOp,
): Promise<JournalOpResult[] | undefined> {
  const status = finish.type === "complete" ? "completed" : "failed";
  const parameters = [
    ...entryParameters(entry),
    status,
    finish.type === "complete" ? finish.output : null,
    finish.type === "fail" ? finish.error : null,
    finish.at,
  ];
  const [row] = await sql.unsafe(oneFinish, parameters as never[], { prepare: true });
  if (row && row.unlinked !== true) return undefined;
  if (row?.written !== 1) return [fenced(row?.status), fenced(row?.status)];
  if (row.finished !== 1) throw inconsistent("an entry was written, its run's finish was not");
  return [{ ok: true }, { ok: true, status }];
}
