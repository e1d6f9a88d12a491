import type { Sql } from "postgres";
import type { RunRecord } from "../store/run-records.ts";
import type { SetOp as JournalOp, JournalOpResult } from "../store/store.ts";
import { planBatch, statementResults, upsertEntries } from "./commit-batch.ts";
import { commitOneEntry, commitOneFinish, oneStep } from "./commit-one-step.ts";

/**
 * The most common batch: journal entries only (steps that finished, no run stops). One
 * statement, hence one implicit transaction, one round trip and no BEGIN/COMMIT: its CTE
 * locks the runs in id order and the upsert is fenced against the locked rows, which the
 * statement also returns for the results. Returns undefined for any other batch.
 */
export async function commitEntries(
  sql: Sql,
  ops: readonly JournalOp[],
): Promise<JournalOpResult[] | undefined> {
  const one = oneStep(ops);
  if (one && !one.finish) return commitOneEntry(sql, one.entry);
  const plan = planBatch(ops);
  if (plan.changes.length > 0) return undefined;
  const rows = await sql`WITH locked AS (
      SELECT id, status, fencing_token, created_at FROM runs
      WHERE id = ANY(${plan.runIds}::text[]) ORDER BY id FOR UPDATE
    ), written AS (
      ${upsertEntries(sql, plan.entries, "locked")}
      RETURNING 1
    )
    SELECT locked.*, (SELECT count(*) FROM written) AS written, 0 AS finished FROM locked`;
  return statementResults(ops, rows);
}

/**
 * A batch of journal entries and run completions or failures, as one statement (one
 * implicit transaction, one round trip, no BEGIN/COMMIT), when no run that finishes here
 * has a parent or a concurrency limit: then a finish touches no row but its own, and needs
 * neither the slot locks nor the parent's row lock of `commitBatch`. That is every
 * one-step run and the last commit of most runs: seven statements in a reserved
 * transaction become one.
 *
 * The caller decides from what the claims told it (see {@link UnlinkedRuns}); the statement
 * checks it again on the locked rows and writes nothing when it does not hold, returning
 * undefined: the caller then runs the batch through `commitBatch`. Returns undefined too
 * for any batch with other ops.
 *
 * Why one statement is enough: its CTE locks the batch's runs in id order (`FOR UPDATE`),
 * the upsert is fenced against the locked rows as in {@link commitEntries}, and the finishing
 * UPDATE repeats the fence on the row it updates, which the lock keeps as it was seen.
 * Within a batch an entry after its run's finish is fenced by `planBatch`, as in SQLite.
 */
export async function commitFinishes(
  sql: Sql,
  ops: readonly JournalOp[],
): Promise<JournalOpResult[] | undefined> {
  if (!ops.every((op) => op.type === "entry" || op.type === "complete" || op.type === "fail")) {
    return undefined;
  }
  const one = oneStep(ops);
  if (one?.finish) return commitOneFinish(sql, one.entry, one.finish);
  const plan = planBatch(ops);
  const finishes = plan.changes.map(
    ({ op }) => op as Extract<JournalOp, { type: "complete" | "fail" }>,
  );
  const column = <T>(pick: (op: (typeof finishes)[number]) => T) => finishes.map(pick);
  // `held`: the rows as locked; `locked`: the same rows, or none when a finishing run turns
  // out to be linked (then nothing is written).
  const rows = await sql`WITH held AS (
      SELECT id, status, fencing_token, created_at, parent_id, concurrency_limit FROM runs
      WHERE id = ANY(${plan.runIds}::text[]) ORDER BY id FOR UPDATE
    ), unlinked AS (
      SELECT NOT EXISTS (SELECT 1 FROM held WHERE id = ANY(${plan.finishingIds}::text[])
        AND (parent_id IS NOT NULL OR concurrency_limit IS NOT NULL)) AS ok
    ), locked AS (
      SELECT * FROM held WHERE (SELECT ok FROM unlinked)
    ), written AS (
      ${upsertEntries(sql, plan.entries, "locked")}
      RETURNING 1
    ), f AS (
      SELECT * FROM unnest(${column((o) => o.runId)}::text[], ${column((o) => o.token)}::bigint[],
        ${column((o) => (o.type === "complete" ? "completed" : "failed"))}::text[],
        ${column((o) => (o.type === "complete" ? o.output : null))}::text[],
        ${column((o) => (o.type === "fail" ? o.error : null))}::text[],
        ${column((o) => o.at)}::bigint[]) AS f(id, token, status, output, error, at)
    ), done AS (
      UPDATE runs r SET status = f.status, output = f.output, error = f.error,
        finished_at = f.at, updated_at = f.at, available_at = NULL, lease_owner = NULL
      FROM f JOIN locked l ON l.id = f.id
      WHERE r.id = f.id AND r.status = 'running' AND r.fencing_token = f.token
      RETURNING r.id
    ), cleared AS (
      DELETE FROM waits w USING done WHERE w.run_id = done.id
    )
    SELECT held.id, held.status, held.fencing_token, held.created_at,
      (SELECT ok FROM unlinked) AS unlinked, (SELECT count(*) FROM written) AS written,
      (SELECT count(*) FROM done) AS finished
    FROM held`;
  if (rows.length > 0 && rows[0]?.unlinked !== true) return undefined;
  return statementResults(ops, rows);
}

/**
 * The runs this store claimed that have no parent and no concurrency limit, by id: their
 * finishes may take {@link commitFinishes}. Both are fixed by the time a run is claimed (a
 * limit is set at admission, before any claim), so what a claim said stays true while the
 * run runs. A run is forgotten when a batch stops its running (it is noted again at its
 * next claim). Runs lost to a takeover are never forgotten that way: past `capacity` the
 * set starts over, and a run it no longer knows only takes the longer path.
 */
export class UnlinkedRuns {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  /** Notes the runs of a claim (or of a start claimed in its insert). */
  note(runs: Iterable<RunRecord>): void {
    for (const run of runs) {
      if (run.parentId !== null || run.concurrencyLimit !== null) continue;
      if (this.#ids.size >= this.#capacity) this.#ids.clear();
      this.#ids.add(run.id);
    }
  }

  /** True when every run the batch finishes is known to be unlinked. */
  covers(ops: readonly JournalOp[]): boolean {
    return ops.every((op) => op.type === "entry" || this.#ids.has(op.runId));
  }

  /** Forgets the runs whose running the batch ends (or tried to end). */
  forgetStopped(ops: readonly JournalOp[]): void {
    for (const op of ops) if (op.type !== "entry") this.#ids.delete(op.runId);
  }
}
