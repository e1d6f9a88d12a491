import type { Sql } from "postgres";
import type { RunId } from "../core/types.ts";
import type { AdmissionOutcome, RunAdmission, RunRecord } from "../store/store.ts";
import { retryingDeadlocks } from "./pipeline.ts";
import { flowControlValues, toRun } from "./rows.ts";
import { wakeChannel } from "./run-statements.ts";

/** The oldest runs of `workflows` waiting for admission, `limit` at most. */
export async function pendingAdmission(
  sql: Sql,
  workflows: readonly string[],
  limit: number,
): Promise<RunRecord[]> {
  const rows = await sql`SELECT * FROM runs
    WHERE NOT admitted AND status = 'queued' AND workflow = ANY(${workflows as string[]}::text[])
    ORDER BY created_at LIMIT ${limit}`;
  return rows.map(toRun);
}

/**
 * Admits runs started without their workflow's code, or fails them: one statement each for
 * the admitted and the rejected, so a batch of a hundred costs one commit (and one
 * notification per workflow, which PostgreSQL folds within a transaction) rather than a
 * hundred. Conditional on each run still waiting for admission: when two workers admit the
 * same run at once, the second does nothing. Rows are locked in id order, so two workers
 * admitting overlapping batches wait for each other instead of deadlocking.
 *
 * A run with a `claim` and no journal is also taken in the same UPDATE, as the claim
 * statement would take it (running, leased, the next fencing token; a fresh run has no
 * crashes and no waits to resolve); one with a journal is only admitted, and the claim
 * statement resolves its due waits. Only the runs left to claim wake the workers.
 */
export async function admitRuns(
  sql: Sql,
  admissions: readonly RunAdmission[],
  at: number,
): Promise<AdmissionOutcome> {
  const sorted = [...admissions].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const admitted = sorted.flatMap(({ id, admission, claim }): Admitted[] =>
    "error" in admission ? [] : [{ id, ...(claim ? { claim } : {}), ...admission }],
  );
  const rejected = sorted.flatMap(({ id, admission }) =>
    "error" in admission ? [{ id, error: admission.error }] : [],
  );
  const outcome: AdmissionOutcome = { claimed: [], unclaimed: 0, failed: [] };
  if (admitted.length > 0) {
    const col = <T>(pick: (a: (typeof admitted)[number]) => T) => admitted.map(pick);
    const [only] = admitted;
    const rows = await retryingDeadlocks(() =>
      only && admitted.length === 1
        ? sql.unsafe(admitOneText, admitOneParameters(only, at), { prepare: true })
        : sql`WITH a AS (
          SELECT * FROM unnest(${col((a) => a.id)}::text[],
            ${col((a) => a.fields.queue ?? "default")}::text[],
            ${col((a) => a.fields.priority ?? 0)}::int[],
            ${col((a) => a.fields.concurrency?.key ?? null)}::text[],
            ${col((a) => a.fields.concurrency?.limit ?? null)}::int[],
            ${col((a) => a.fields.rateLimit?.key ?? null)}::text[],
            ${col((a) => a.fields.rateLimit?.limit ?? null)}::int[],
            ${col((a) => a.fields.rateLimit?.periodMs ?? null)}::bigint[],
            ${col((a) => a.fields.deadlineAt ?? null)}::bigint[],
            ${col((a) => at + a.delayMs)}::bigint[],
            ${col((a) => a.fields.workflowVersion ?? 1)}::int[],
            ${col((a) => (a.delayMs === 0 ? (a.claim?.owner ?? null) : null))}::text[],
            ${col((a) => a.claim?.leaseUntil ?? null)}::bigint[])
            AS a(id, queue, priority, concurrency_key, concurrency_limit, rate_key, rate_limit,
              rate_period_ms, deadline_at, available_at, workflow_version, owner, lease_until)
        ), locked AS (
          SELECT r.id, a.owner IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.run_id = r.id) AS take
          FROM runs r JOIN a ON a.id = r.id
          WHERE NOT r.admitted AND r.status = 'queued' ORDER BY r.id FOR UPDATE OF r
        )
        UPDATE runs r SET admitted = TRUE, queue = a.queue, priority = a.priority,
          concurrency_key = a.concurrency_key, concurrency_limit = a.concurrency_limit,
          rate_key = a.rate_key, rate_limit = a.rate_limit, rate_period_ms = a.rate_period_ms,
          deadline_at = a.deadline_at, updated_at = ${at}, workflow_version = a.workflow_version,
          available_at = CASE WHEN l.take THEN a.lease_until ELSE a.available_at END,
          status = CASE WHEN l.take THEN 'running' ELSE r.status END,
          lease_owner = CASE WHEN l.take THEN a.owner ELSE r.lease_owner END,
          fencing_token = r.fencing_token + CASE WHEN l.take THEN 1 ELSE 0 END,
          started_at = CASE WHEN l.take THEN coalesce(r.started_at, ${at}) ELSE r.started_at END,
          crash_count = CASE WHEN l.take THEN 0 ELSE r.crash_count END,
          claimed_journal_len = CASE WHEN l.take THEN 0 ELSE r.claimed_journal_len END
        FROM a JOIN locked l ON l.id = a.id
        WHERE r.id = a.id AND NOT r.admitted AND r.status = 'queued'
        RETURNING r.*, l.take,
          CASE WHEN NOT l.take THEN pg_notify(${sql.unsafe(wakeChannel)}, r.workflow) END AS notified`,
    );
    outcome.unclaimed = rows.filter((row) => !row.take).length;
    outcome.claimed = rows
      .filter((row) => row.take)
      .map((row) => ({
        run: toRun(row),
        token: Number(row.fencing_token),
        takeover: false,
        crashes: 0,
        journalEmpty: true,
      }));
  }
  if (rejected.length > 0) {
    const failed = await retryingDeadlocks(
      () => sql`WITH f AS (
          SELECT * FROM unnest(${rejected.map((r) => r.id)}::text[],
            ${rejected.map((r) => r.error)}::text[]) AS f(id, error)
        ), locked AS (
          SELECT r.id FROM runs r JOIN f ON f.id = r.id
          WHERE NOT r.admitted AND r.status = 'queued' ORDER BY r.id FOR UPDATE OF r
        )
        UPDATE runs r SET admitted = TRUE, status = 'failed', error = f.error,
          finished_at = ${at}, updated_at = ${at}
        FROM f JOIN locked l ON l.id = f.id
        WHERE r.id = f.id AND NOT r.admitted AND r.status = 'queued'
        RETURNING r.id`,
    );
    outcome.failed = failed.map((row) => row.id as RunId);
  }
  return outcome;
}

/**
 * The admission of one run (a `cairn server`'s start, most often), a parameter per column
 * where the batch statement passes thirteen one-element arrays: serializing and unnesting
 * them cost about 0.1 ms of a 0.7 ms admission. The same statement otherwise.
 */
const admitOneText = `WITH locked AS (
    SELECT r.id, $12::text IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.run_id = r.id) AS take
    FROM runs r WHERE r.id = $1::text AND NOT r.admitted AND r.status = 'queued'
    FOR UPDATE OF r
  )
  UPDATE runs r SET admitted = TRUE, queue = $2::text, priority = $3::int,
    concurrency_key = $4::text, concurrency_limit = $5::int,
    rate_key = $6::text, rate_limit = $7::int, rate_period_ms = $8::bigint,
    deadline_at = $9::bigint, updated_at = $14::bigint, workflow_version = $11::int,
    available_at = CASE WHEN l.take THEN $13::bigint ELSE $10::bigint END,
    status = CASE WHEN l.take THEN 'running' ELSE r.status END,
    lease_owner = CASE WHEN l.take THEN $12::text ELSE r.lease_owner END,
    fencing_token = r.fencing_token + CASE WHEN l.take THEN 1 ELSE 0 END,
    started_at = CASE WHEN l.take THEN coalesce(r.started_at, $14::bigint) ELSE r.started_at END,
    crash_count = CASE WHEN l.take THEN 0 ELSE r.crash_count END,
    claimed_journal_len = CASE WHEN l.take THEN 0 ELSE r.claimed_journal_len END
  FROM locked l WHERE r.id = l.id AND NOT r.admitted AND r.status = 'queued'
  RETURNING r.*, l.take,
    CASE WHEN NOT l.take THEN pg_notify(${wakeChannel}, r.workflow) END AS notified`;

/** An admission that admits (rather than fails) its run. */
type Admitted = Omit<RunAdmission, "admission"> &
  Extract<RunAdmission["admission"], { fields: unknown }>;

function admitOneParameters(a: Admitted, at: number) {
  const f = a.fields;
  const owner = a.delayMs === 0 ? (a.claim?.owner ?? null) : null;
  return [
    a.id,
    ...flowControlValues(f),
    f.deadlineAt ?? null,
    at + a.delayMs,
    f.workflowVersion ?? 1,
    owner,
    a.claim?.leaseUntil ?? null,
    at,
  ] as never[];
}
