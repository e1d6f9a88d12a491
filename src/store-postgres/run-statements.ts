import type { PendingQuery, Row, Sql } from "postgres";
import type { NewRun, RunRecord } from "../store/store.ts";
import { newRunValues, runColumns } from "./rows.ts";
import { insertedRunNotice, insertedRunNoticeWithInput } from "./wake-notice.ts";

/**
 * The run's next delivery sequence number, for an outcome the store resolves (a due sleep,
 * an event, a signal, a child's result): replays deliver outcomes in `seq` order.
 */
export const nextSeq = `seq = CASE WHEN (SELECT status FROM runs WHERE id = steps.run_id) = 'running'
  THEN NULL ELSE (SELECT coalesce(max(d.seq), 0) + 1 FROM steps d WHERE d.run_id = steps.run_id) END`;

/** A lease a run is created with: it goes straight to a worker of this process. */
export type RunClaim = { owner: string; leaseUntil: number };

/**
 * The channel every wake-up is sent on, one per schema so that the Cairns sharing a
 * database do not wake each other: `cairn_wake_` and the md5 of the schema's name (a channel
 * name must stay under 64 bytes). The payload is the workflow that has work (for runs that
 * await admission, see `wake-notice.ts`).
 */
export const wakeChannel = "'cairn_wake_' || md5(current_schema())";

/**
 * The channel on which the schema announces every run that ends, with the run's id as the
 * payload (a trigger on `runs` sends it: see migration 0012).
 */
export const endedChannel = "'cairn_ended_' || md5(current_schema())";

/** `superjson.stringify(null)`: what a wait that timed out resolves to. */
export const serializedNull = '{"json":null}';

/**
 * Inserts runs (`ON CONFLICT DO NOTHING`: an existing id or schedule slot is left alone)
 * with one `unnest` array per column, and returns the rows actually inserted. Runs that
 * are not created claimed notify `cairn_wake`: idle workers elsewhere learn of them at
 * once (a debounced run's later start, too, so that they set their timers).
 */
export function insertRuns(
  sql: Sql,
  runs: readonly NewRun[],
  claims?: readonly (RunClaim | undefined)[],
): PendingQuery<Row[]> {
  const values = runs.map((run, i) => newRunValues(run, claims?.[i]));
  // Booleans travel as text, cast on the server: postgres.js sends a JS boolean array with
  // the scalar type, and once the server has typed the parameter `boolean[]`, postgres.js's
  // boolean serializer writes every element that is not `true` itself (the text "true"
  // too) as false: every run was stored unadmitted.
  const cell = (value: string | number | boolean | null | undefined) =>
    typeof value === "boolean" ? String(value) : (value ?? null);
  const [only] = values;
  if (only && values.length === 1) {
    return sql.unsafe(insertRunText, only.map(cell) as never[], { prepare: true });
  }
  const arrays = runColumns.map((_, i) => values.map((v) => cell(v[i])));
  return sql(insertRunsText, ...arrays) as PendingQuery<Row[]>;
}

const insertReturning = (notice: string) => `ON CONFLICT DO NOTHING
    RETURNING *, (SELECT pg_notify(${wakeChannel}, ${notice}) WHERE status = 'queued') AS notified`;

/**
 * `insertRuns` of one run (a start, most often), a parameter per column where the batch
 * statement passes 27 one-element arrays: serializing and unnesting them cost as much as the
 * insert's own commit.
 */
const insertRunText = `INSERT INTO runs (${runColumns.map(([name]) => `"${name}"`).join(", ")})
    VALUES (${runColumns
      .map(([, type], i) => `$${i + 1}::${type === "boolean" ? "text::boolean" : type}`)
      .join(", ")})
    ${insertReturning(insertedRunNoticeWithInput)}`;

/**
 * `insertRuns`'s statement, one parameter per column, as a template built once: composing
 * it from a fragment per column cost ≈ 0.3 ms of CPU per start (two fragments a column,
 * each a postgres.js query object), on the critical path of every run started.
 */
const insertRunsText: TemplateStringsArray = (() => {
  const casts = runColumns.map(([, type]) =>
    type === "boolean" ? "::text[]::boolean[]" : `::${type}[]`,
  );
  const names = runColumns.map(([name]) => `"${name}"`).join(", ");
  const strings = [
    `INSERT INTO runs (${names})\n    SELECT * FROM unnest(`,
    ...casts.slice(0, -1).map((cast) => `${cast}, `),
    `${casts[casts.length - 1]})
    ${insertReturning(insertedRunNotice)}`,
  ];
  return Object.assign(strings, { raw: strings });
})();

/**
 * Leases runs to `owner` with a new token, and resolves their sleeps and wait timeouts that
 * are due by `now`, once, so that every later replay sees the same outcome whatever its
 * own clock says. The caller holds the rows (claimed with SKIP LOCKED).
 */
/**
 * The claim's crash bookkeeping, in the claiming UPDATE itself: a takeover (the run was
 * still running: its lease lapsed) that finds the journal as long as the previous claim
 * did counts one more crash without progress; one after progress starts again at 1; any
 * other claim resets it. The right-hand sides see the row as it was before the update.
 */
export const crashBookkeeping = `crash_count = CASE WHEN runs.status <> 'running' THEN 0
    WHEN runs.claimed_journal_len = (SELECT count(*) FROM steps j WHERE j.run_id = runs.id)
    THEN runs.crash_count + 1 ELSE 1 END,
  claimed_journal_len = (SELECT count(*) FROM steps j WHERE j.run_id = runs.id)`;

export function claimByIds(
  sql: Sql,
  ids: readonly string[],
  owner: string,
  now: number,
  leaseMs: number,
): PendingQuery<Row[]> {
  return sql`WITH claimed AS (
      UPDATE runs SET status = 'running', lease_owner = ${owner},
        available_at = ${now + leaseMs}, fencing_token = fencing_token + 1,
        started_at = coalesce(started_at, ${now}), updated_at = ${now},
        ${sql.unsafe(crashBookkeeping)}
      WHERE id = ANY(${ids as string[]}::text[])
      RETURNING *
    ), ${resolveDueWaits(sql, now)}, cleared AS (
      DELETE FROM waits USING resolved
      WHERE waits.run_id = resolved.run_id AND waits.position = resolved.position
    )
    SELECT * FROM claimed`;
}

/**
 * The value a run parked on a concurrency key carries in `blocked_on`: workflow and key
 * joined by \u001f (SQLite joins them with \u0000, which PostgreSQL text cannot hold).
 */
export function concurrencySlot(run: Pick<RunRecord, "workflow" | "concurrencyKey">): string {
  return `${run.workflow}\u001f${run.concurrencyKey ?? ""}`;
}

/**
 * Advisory lock keys, namespaced by schema so that two deployments in one database do not
 * contend. Global lock order, which every waiting transaction follows so that none waits
 * in a cycle: event locks, then concurrency-slot locks (each kind by key), then run rows
 * by id. Claims never wait: SKIP LOCKED for rows, try-locks for slots.
 */
export const lockKey = {
  event: (name: string) => `:event:${name}`,
  slot: (workflow: string, key: string | null) => `:slot:${workflow}\u001f${key ?? ""}`,
  rate: (workflow: string, key: string | null) => `:rate:${workflow}\u001f${key ?? ""}`,
  debounce: (workflow: string, key: string) => `:debounce:${workflow}\u001f${key}`,
};

/** Takes the transaction-scoped advisory locks named `keys`, in one order. */
export function lockAdvisory(sql: Sql, keys: readonly string[]): PendingQuery<Row[]> {
  return sql`SELECT pg_advisory_xact_lock(k) FROM (
      SELECT DISTINCT hashtext(current_schema() || n) AS k
      FROM unnest(${keys as string[]}::text[]) AS n ORDER BY k) AS keys`;
}

/**
 * Locks the concurrency slots of the given runs (those under a concurrency limit). Taken
 * before the run rows by every transaction that moves such a run out of `running` or
 * parks one: admission (count, then park) and release (leave, then unpark the parked)
 * must not interleave, or a parked run would wait for a wake-up that already happened.
 */
export function lockSlotsOf(sql: Sql, runIds: readonly string[]): PendingQuery<Row[]> {
  return sql`SELECT pg_advisory_xact_lock(k) FROM (
      SELECT DISTINCT hashtext(current_schema() || ':slot:' || workflow || chr(31)
        || coalesce(concurrency_key, '')) AS k
      FROM runs WHERE id = ANY(${runIds as string[]}::text[]) AND concurrency_limit IS NOT NULL
      ORDER BY k) AS keys`;
}

/** Wakes waiting runs (queued, available now) and notifies workers of their workflows. */
export function wakeRuns(sql: Sql, runIds: readonly string[], at: number): PendingQuery<Row[]> {
  return sql`UPDATE runs SET status = 'queued', available_at = ${at}, updated_at = ${at}
    WHERE id = ANY(${runIds as string[]}::text[]) AND status = 'waiting'
    RETURNING pg_notify(${sql.unsafe(wakeChannel)}, workflow) AS notified`;
}

/**
 * The CTEs that free the concurrency slots of the runs `changed` took out of `running`:
 * the runs parked on them become available at the op's time (`unblocked`, for notifying).
 * `exclude` names a CTE of rows this statement already updates (a row is updated at most
 * once per statement). A batch may free a slot in several statements: `blocked_on` stays
 * set until {@link clearUnblocked} at the end, so each of them sees the parked runs, and
 * the earliest time wins (SQLite unparks them at the first op that frees the slot).
 */
export function unblock(tx: Sql, changed: string, exclude?: string) {
  // Raw text, built from constants only.
  return tx.unsafe(`freed AS (
      SELECT workflow || chr(31) || coalesce(concurrency_key, '') AS slot, min(at) AS at
      FROM ${changed} WHERE concurrency_limit IS NOT NULL GROUP BY 1
    ), unblocked AS (
      UPDATE runs b SET available_at = least(coalesce(b.available_at, freed.at), freed.at)
      FROM freed WHERE b.blocked_on = freed.slot AND b.status IN ('queued', 'waiting')
        ${exclude ? `AND b.id NOT IN (SELECT id FROM ${exclude})` : ""}
      RETURNING b.workflow
    )`);
}

/**
 * Ends the parking of the runs {@link unblock} made available in this transaction (only
 * this transaction's rows have both columns set: every one clears them before COMMIT).
 */
export function clearUnblocked(tx: Sql): PendingQuery<Row[]> {
  return tx`UPDATE runs SET blocked_on = NULL
    WHERE blocked_on IS NOT NULL AND available_at IS NOT NULL`;
}

/**
 * The CTEs that resolve the claimed runs' sleeps and wait timeouts due by `now` (`resolved`),
 * each taking the run's next delivery number, in order of wake time then position.
 */
export function resolveDueWaits(sql: Sql, now: number) {
  return sql`due AS (
      SELECT steps.run_id, steps.position, steps.status = 'waiting' AS due_now,
        (SELECT coalesce(max(d.seq), 0) FROM steps d WHERE d.run_id = steps.run_id)
          + row_number() OVER (PARTITION BY steps.run_id
              ORDER BY steps.status = 'waiting', steps.finished_at, steps.wake_at, steps.position)
          AS seq
      FROM steps JOIN claimed ON steps.run_id = claimed.id
      WHERE (steps.status = 'waiting' AND steps.wake_at <= ${now})
        -- outcomes resolved while the run was running are numbered now, before due waits
        OR (steps.seq IS NULL AND steps.status IN ('completed', 'failed')
          AND steps.kind IN ('sleep', 'event', 'signal', 'invoke', 'any'))
    ), resolved AS (
      UPDATE steps SET status = CASE WHEN due.due_now THEN 'completed' ELSE steps.status END,
        output = CASE WHEN NOT due.due_now THEN steps.output
          WHEN steps.kind = 'sleep' THEN NULL ELSE ${serializedNull}::text END,
        finished_at = CASE WHEN due.due_now THEN ${now} ELSE steps.finished_at END, seq = due.seq
      FROM due WHERE steps.run_id = due.run_id AND steps.position = due.position
      RETURNING steps.run_id, steps.position
    )`;
}
