import type { ReservedSql, Row, Sql } from "postgres";
import type { RunId, RunStatus } from "../core/types.ts";
import type { JournalEntry, SetOp as JournalOp, JournalOpResult } from "../store/store.ts";
import type { Send } from "./pipeline.ts";
import {
  clearUnblocked,
  lockAdvisory,
  lockKey,
  lockSlotsOf,
  unblock,
  wakeChannel,
} from "./run-statements.ts";
import { eventNamesOf, type SleepWait, suspendOnInput } from "./suspend-on-input.ts";

type Op<K extends JournalOp["type"]> = Extract<JournalOp, { type: K }>;

/**
 * One group commit: every op of the batch in one transaction, each fenced on its own
 * (it applies only while its run is `running` with the op's token), with the results and
 * the end state of the SQLite store's one-op-after-another loop (a differential test
 * holds the two to that).
 *
 * How it stays cheap: the batch's run rows are locked once, in id order, and each kind of
 * op is applied to all its runs by one set-based statement that repeats the fencing check
 * in SQL (`JOIN runs … status = 'running' AND fencing_token = token`). None of those
 * statements needs another's answer, so BEGIN, the locks, the writes and COMMIT are
 * pipelined: a batch of steps, completions, releases and sleeps costs one round trip. The
 * results are derived afterwards from the locked rows (and checked against the row counts).
 *
 * Why a set-based statement sees the state the lock saw: the rows stay locked until COMMIT,
 * and within a batch a run stops running at most once. A second op of the run with the
 * same token is fenced by the first and left out here ("blocked"); ops with another token
 * were fenced from the start.
 *
 * Order between runs: the only op of one run that affects another is a finish (it resolves
 * the parent's `invoke` entry and wakes the parent). Statements run in "phases" of
 * finishes, releases, suspensions: a suspension on a child that finished earlier in the
 * batch finds it finished. A run that stops before a run it awaits finishes needs that
 * finish in a later phase: for a parent, that takes the parent links from the lock's
 * answer, so a batch that both finishes runs and stops others pays a second round trip.
 * A suspension on an event, a signal or a child must read before it writes (buffered
 * input, the child's state): such batches pay a round trip per wait.
 *
 * Lock order (see `lockKey`): advisory locks of the events a suspension waits for, then of
 * the concurrency slots of the runs that stop running here, then the run rows in id order —
 * including the parents of runs that finish here (resolving a parent's `invoke` entry must
 * not race the parent's own suspension, see `lockRuns`). A run that stops running frees its
 * concurrency slot: the runs parked on it become claimable (and workers are notified).
 */
export async function commitBatch(
  tx: ReservedSql,
  send: Send,
  commit: () => Promise<void>,
  ops: readonly JournalOp[],
): Promise<JournalOpResult[]> {
  const plan = planBatch(ops);
  if (plan.eventNames.length > 0) void send(lockAdvisory(tx, plan.eventNames.map(lockKey.event)));
  if (plan.changingIds.length > 0) void send(lockSlotsOf(tx, plan.changingIds));
  const locked = send(lockRuns(tx, plan.runIds, plan.finishingIds));
  const entries = plan.entries.length > 0 ? send(upsertEntries(tx, plan.entries)) : null;
  // Only a batch that both finishes runs and stops others can hold a parent that stops
  // before its child finishes; only then are the parent links worth waiting for.
  const mixed =
    plan.changes.some(({ op }) => op.type === "complete" || op.type === "fail") &&
    plan.changes.some(({ op }) => op.type === "release" || op.type === "suspend");
  const phases = splitPhases(plan.changes, mixed ? parentLinks(await locked) : new Map());

  const finished: Promise<Row[]>[] = [];
  const released: Promise<Row[]>[] = [];
  const suspended: Promise<Row[]>[] = [];
  const complexStatus = new Map<number, RunStatus>();
  let states: Map<string, RunState> | undefined;
  for (const phase of phases) {
    if (phase.finishes.length > 0) finished.push(send(finishRuns(tx, phase.finishes)));
    if (phase.releases.length > 0) released.push(send(releaseRuns(tx, phase.releases)));
    if (phase.sleeps.length > 0) suspended.push(sendSleepSuspensions(tx, send, phase.sleeps));
    if (phase.complex.length > 0) {
      states ??= toStates(await locked);
      for (const { index, op } of phase.complex) {
        const state = states.get(op.runId);
        if (state?.status !== "running" || state.token !== op.token) continue;
        complexStatus.set(index, await suspendOnInput(tx, send, op, state.createdAt));
      }
    }
  }
  if (plan.changingIds.length > 0) void send(clearUnblocked(tx));
  await commit();

  const finishedRows = (await Promise.all(finished)).flat();
  const sleepStatus = new Map(
    (await Promise.all(suspended)).flat().map((row) => [row.id as string, row.status as RunStatus]),
  );
  const wokeParent = new Map(
    finishedRows
      .filter((row) => row.woke !== null)
      .map((row) => [row.id as string, row.woke as string]),
  );
  const results = simulate(ops, toStates(await locked), wokeParent, (index, op) =>
    complexStatus.has(index) ? complexStatus.get(index) : sleepStatus.get(op.runId),
  );
  checkCounts(results, ops, complexStatus.size, {
    entries: entries ? (await entries).count : 0,
    finishes: finishedRows.length,
    releases: (await Promise.all(released)).flat().length,
    sleeps: sleepStatus.size,
  });
  return results;
}

/**
 * The results of a batch applied by one statement (`commitEntries`, `commitFinishes`) that
 * returns the locked rows, each with the counts of entries `written` and runs `finished`.
 */
export function statementResults(ops: readonly JournalOp[], rows: readonly Row[]) {
  const count = (column: string) => (rows.length > 0 ? Number(rows[0]?.[column]) : 0);
  const results = simulate(ops, toStates(rows), new Map(), () => undefined);
  const counts = { entries: count("written"), finishes: count("finished") };
  checkCounts(results, ops, 0, { ...counts, releases: 0, sleeps: 0 });
  return results;
}

interface RunState {
  status: RunStatus;
  token: number;
  createdAt: number;
}

function toStates(rows: readonly Row[]): Map<string, RunState> {
  return new Map(
    rows.map((row) => [
      row.id as string,
      {
        status: row.status as RunStatus,
        token: Number(row.fencing_token),
        createdAt: Number(row.created_at),
      },
    ]),
  );
}

function parentLinks(rows: readonly Row[]): Map<string, string> {
  return new Map(
    rows
      .filter((row) => row.parent_id !== null)
      .map((row) => [row.id as string, row.parent_id as string]),
  );
}

type Change = Exclude<JournalOp, { type: "entry" }>;

interface Plan {
  runIds: string[];
  /** Runs with an unblocked complete/fail op: their parents are locked too. */
  finishingIds: string[];
  /** Runs with an unblocked op that ends `running`: their concurrency slots are locked. */
  changingIds: string[];
  eventNames: string[];
  entries: EntryRow[];
  /** The unblocked ops that end `running`, in batch order. */
  changes: { index: number; op: Change }[];
}

interface EntryRow {
  runId: RunId;
  token: number;
  entry: JournalEntry;
}

export function planBatch(ops: readonly JournalOp[]): Plan {
  const runIds = new Set<string>();
  const finishing = new Set<string>();
  const changing = new Set<string>();
  const eventNames = new Set<string>();
  const changed = new Set<string>();
  const entries = new Map<string, EntryRow>();
  const changes: Plan["changes"] = [];
  for (const [index, op] of ops.entries()) {
    runIds.add(op.runId);
    const lease = `${op.runId}\u0000${op.token}`;
    // An earlier op of this run with this token ended its `running` state: fenced for sure.
    if (changed.has(lease)) continue;
    if (op.type === "entry") {
      // Two writes of one position in a batch: the upsert keeps the first key and kind and
      // the last of everything else, as two upserts in a row would.
      const slot = `${lease}\u0000${op.entry.position}`;
      const first = entries.get(slot);
      entries.set(slot, {
        runId: op.runId,
        token: op.token,
        entry: first ? { ...op.entry, key: first.entry.key, kind: first.entry.kind } : op.entry,
      });
      continue;
    }
    changes.push({ index, op });
    changed.add(lease);
    changing.add(op.runId);
    if (op.type === "complete" || op.type === "fail") finishing.add(op.runId);
    if (op.type === "suspend") {
      for (const w of op.waits) for (const name of eventNamesOf(w)) eventNames.add(name);
    }
  }
  return {
    runIds: [...runIds],
    finishingIds: [...finishing],
    changingIds: [...changing],
    eventNames: [...eventNames].sort(),
    entries: [...entries.values()],
    changes,
  };
}

/** Ops applied by one round of set-based statements, in this order. */
interface Phase {
  finishes: Op<"complete" | "fail">[];
  releases: Op<"release">[];
  /** Suspensions that wait only for time (sleeps, retries): pure writes. */
  sleeps: Op<"suspend">[];
  /** Suspensions that also wait for outside input: they read before they write. */
  complex: { index: number; op: Op<"suspend"> }[];
}

/**
 * Within a phase, finishes go first: a parent suspending on a child that finished earlier
 * in the batch finds it finished, as in SQLite. The one order a phase cannot express is a
 * run that stops (suspends, is released) before a run it awaits finishes: that finish must
 * see it stopped (and wake it if it is its parent), so it starts the next phase.
 */
function splitPhases(changes: Plan["changes"], parentOf: Map<string, string>): Phase[] {
  const empty = (): Phase => ({ finishes: [], releases: [], sleeps: [], complex: [] });
  const phases = [empty()];
  let stoppedHere = new Set<string>();
  let awaitedHere = new Set<string>();
  for (const { index, op } of changes) {
    let phase = phases[phases.length - 1] as Phase;
    if (op.type === "complete" || op.type === "fail") {
      const parent = parentOf.get(op.runId);
      if ((parent !== undefined && stoppedHere.has(parent)) || awaitedHere.has(op.runId)) {
        phase = empty();
        phases.push(phase);
        stoppedHere = new Set();
        awaitedHere = new Set();
      }
      phase.finishes.push(op);
      continue;
    }
    stoppedHere.add(op.runId);
    if (op.type === "suspend") {
      for (const w of op.waits) if (w.kind === "invoke") awaitedHere.add(w.childId);
    }
    if (op.type === "release") phase.releases.push(op);
    else if (op.waits.every((w) => w.kind === "sleep" || w.kind === "retry")) phase.sleeps.push(op);
    else phase.complex.push({ index, op });
  }
  return phases;
}

/** Replays the batch op by op against the locked rows, as SQLite's loop applies it. */
function simulate(
  ops: readonly JournalOp[],
  states: Map<string, { status: RunStatus; token: number }>,
  wokeParent: Map<string, string>,
  suspendStatus: (index: number, op: Op<"suspend">) => RunStatus | undefined,
): JournalOpResult[] {
  const current = new Map([...states].map(([id, s]) => [id, { ...s }]));
  const finish = (runId: string, status: RunStatus): JournalOpResult => {
    const parent = current.get(wokeParent.get(runId) ?? "");
    if (parent?.status === "waiting") parent.status = "queued";
    return { ok: true, status };
  };
  return ops.map((op, index): JournalOpResult => {
    const state = current.get(op.runId);
    if (state?.status !== "running" || state.token !== op.token) {
      return { ok: false, reason: "fenced", status: state?.status ?? null };
    }
    switch (op.type) {
      case "entry":
        return { ok: true };
      case "complete":
        state.status = "completed";
        return finish(op.runId, "completed");
      case "fail":
        state.status = "failed";
        return finish(op.runId, "failed");
      case "release":
        state.status = "queued";
        return { ok: true, status: "queued" };
      default: {
        const status = suspendStatus(index, op);
        if (!status) throw inconsistent(`suspension of run "${op.runId}" was not applied`);
        state.status = status;
        return { ok: true, status };
      }
    }
  });
}

/**
 * The set-based statements decide in SQL what the simulation decides in JavaScript; they
 * must agree, or the results would lie about what was written. Cheap to check, so checked.
 */
function checkCounts(
  results: JournalOpResult[],
  ops: readonly JournalOp[],
  complexApplied: number,
  actual: { entries: number; finishes: number; releases: number; sleeps: number },
): void {
  const applied = (type: JournalOp["type"]) =>
    ops.filter((op, i) => op.type === type && results[i]?.ok).length;
  const appliedEntrySlots = new Set(
    ops
      .filter((op, i): op is Op<"entry"> => op.type === "entry" && results[i]?.ok === true)
      .map((op) => `${op.runId}\u0000${op.entry.position}`),
  ).size;
  const expected = {
    entries: appliedEntrySlots,
    finishes: applied("complete") + applied("fail"),
    releases: applied("release"),
    sleeps: applied("suspend") - complexApplied,
  };
  for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
    if (expected[key] !== actual[key]) {
      throw inconsistent(`${key}: expected ${expected[key]} rows, wrote ${actual[key]}`);
    }
  }
}

export function inconsistent(what: string): Error {
  return new Error(`Cairn PostgreSQL store: a journal batch was applied inconsistently (${what}).`);
}

/**
 * Locks the batch's runs and the parents of the runs that finish here, in id order.
 * Without the parent's lock, a child finishing while its parent suspends on it could be
 * missed by both: the parent's transaction reads the child as running, the child's cannot
 * see the parent's uncommitted `waiting` entry. With it, one of them waits for the other.
 */
function lockRuns(tx: ReservedSql, runIds: string[], finishingIds: string[]) {
  return tx`SELECT id, status, fencing_token, created_at, parent_id FROM runs
    WHERE id = ANY(${runIds}::text[] || ARRAY(SELECT parent_id FROM runs
      WHERE id = ANY(${finishingIds}::text[]) AND parent_id IS NOT NULL))
    ORDER BY id FOR UPDATE`;
}

/**
 * Upserts entries, fenced against the run rows as `against` holds them: the table (rows
 * this transaction already locked) or the `locked` CTE of the one-statement batches
 * (`commit-one-statement.ts`).
 */
export function upsertEntries(tx: Sql, rows: EntryRow[], against: "runs" | "locked" = "runs") {
  const col = <T>(pick: (r: EntryRow) => T) => rows.map(pick);
  return tx`INSERT INTO steps (run_id, position, key, kind, status, output, error, attempt,
      started_at, finished_at, wake_at, detail, seq)
    SELECT e.run_id, e.position, e.key, e.kind, e.status, e.output, e.error, e.attempt,
      e.started_at, e.finished_at, e.wake_at, e.detail, e.seq
    FROM unnest(${col((r) => r.runId)}::text[], ${col((r) => r.token)}::bigint[],
      ${col((r) => r.entry.position)}::int[], ${col((r) => r.entry.key)}::text[],
      ${col((r) => r.entry.kind)}::text[], ${col((r) => r.entry.status)}::text[],
      ${col((r) => r.entry.output)}::text[], ${col((r) => r.entry.error)}::text[],
      ${col((r) => r.entry.attempt)}::int[], ${col((r) => r.entry.startedAt)}::bigint[],
      ${col((r) => r.entry.finishedAt)}::bigint[], ${col((r) => r.entry.wakeAt)}::bigint[],
      ${col((r) => r.entry.detail)}::text[], ${col((r) => r.entry.seq)}::int[])
      AS e(run_id, token, position, key, kind, status, output, error, attempt,
        started_at, finished_at, wake_at, detail, seq)
    JOIN ${tx.unsafe(against)} r
      ON r.id = e.run_id AND r.status = 'running' AND r.fencing_token = e.token
    ON CONFLICT (run_id, position) DO UPDATE SET status = excluded.status,
      output = excluded.output, error = excluded.error, attempt = excluded.attempt,
      started_at = excluded.started_at, finished_at = excluded.finished_at,
      wake_at = excluded.wake_at, detail = excluded.detail, seq = excluded.seq`;
}

/**
 * Completes or fails runs, drops their waits, and resolves the `invoke` entry of each
 * one's parent, waking the parent if it was waiting (and notifying workers of it).
 */
function finishRuns(tx: ReservedSql, ops: Op<"complete" | "fail">[]) {
  return tx`WITH f AS (
      SELECT * FROM unnest(${ops.map((o) => o.runId)}::text[], ${ops.map((o) => o.token)}::bigint[],
        ${ops.map((o) => (o.type === "complete" ? "completed" : "failed"))}::text[],
        ${ops.map((o) => (o.type === "complete" ? o.output : null))}::text[],
        ${ops.map((o) => (o.type === "fail" ? o.error : null))}::text[],
        ${ops.map((o) => o.at)}::bigint[], ${ops.map((_, i) => i)}::int[])
        AS f(id, token, status, output, error, at, n)
    ), done AS (
      UPDATE runs r SET status = f.status, output = f.output, error = f.error,
        finished_at = f.at, updated_at = f.at, available_at = NULL, lease_owner = NULL
      FROM f WHERE r.id = f.id AND r.status = 'running' AND r.fencing_token = f.token
      RETURNING r.id, r.parent_id, r.parent_position, r.workflow, r.concurrency_key,
        r.concurrency_limit, f.status, f.output, f.error, f.at, f.n
    ), cleared AS (
      DELETE FROM waits w USING done WHERE w.run_id = done.id
    ), resolving AS (
      -- Each resolved entry takes its parent's next delivery number, in batch order.
      -- A running parent may hold numbers in memory: its entry is numbered at its next claim.
      -- A parent that finishes earlier in the batch is no longer running by then.
      SELECT s.run_id, s.position, done.id AS child,
        CASE WHEN (SELECT status FROM runs p WHERE p.id = s.run_id) = 'running'
          AND NOT EXISTS (SELECT 1 FROM done p WHERE p.id = s.run_id AND p.n < done.n) THEN NULL
        ELSE (SELECT coalesce(max(d.seq), 0) FROM steps d WHERE d.run_id = s.run_id)
          + row_number() OVER (PARTITION BY s.run_id ORDER BY done.n) END AS seq
      FROM done JOIN steps s ON s.run_id = done.parent_id AND s.position = done.parent_position
      WHERE s.status = 'waiting'
    ), resolved AS (
      UPDATE steps s SET status = done.status, output = done.output, error = done.error,
        finished_at = done.at, seq = resolving.seq
      FROM resolving JOIN done ON done.id = resolving.child
      WHERE s.run_id = resolving.run_id AND s.position = resolving.position
      RETURNING s.run_id, done.at, done.id AS child
    ), woken AS (
      UPDATE runs p SET status = 'queued', available_at = resolved.at, updated_at = resolved.at
      FROM resolved WHERE p.id = resolved.run_id AND p.status = 'waiting'
      RETURNING p.id, p.workflow
    ), ${unblock(tx, "done", "woken")}
    SELECT done.id, woken.id AS woke,
      (SELECT count(*) FROM (SELECT pg_notify(${tx.unsafe(wakeChannel)}, workflow)
        FROM (SELECT workflow FROM woken UNION SELECT workflow FROM unblocked) AS w) AS n)
        AS notified
    FROM done
      LEFT JOIN resolved ON resolved.child = done.id
      LEFT JOIN woken ON woken.id = resolved.run_id`;
}

function releaseRuns(tx: ReservedSql, ops: Op<"release">[]) {
  return tx`WITH v AS (
      SELECT * FROM unnest(${ops.map((o) => o.runId)}::text[], ${ops.map((o) => o.token)}::bigint[],
        ${ops.map((o) => o.at)}::bigint[]) AS v(id, token, at)
    ), u AS (
      UPDATE runs r SET status = 'queued', available_at = v.at, updated_at = v.at,
        lease_owner = NULL
      FROM v WHERE r.id = v.id AND r.status = 'running' AND r.fencing_token = v.token
      RETURNING r.id, r.workflow, r.concurrency_key, r.concurrency_limit, v.at
    ), ${unblock(tx, "u", "u")}
    SELECT id, (SELECT count(*) FROM (SELECT pg_notify(${tx.unsafe(wakeChannel)}, workflow)
        FROM (SELECT workflow FROM u UNION SELECT workflow FROM unblocked) AS w) AS n)
      AS notified
    FROM u`;
}

/**
 * Suspensions on sleeps and retries only: register the sleep entries, then set each run
 * `waiting` until its earliest wake-up, or `queued` if one of its waits is already over.
 */
function sendSleepSuspensions(tx: ReservedSql, send: Send, ops: Op<"suspend">[]) {
  const sleeps = ops.flatMap((op) =>
    op.waits.filter((w): w is SleepWait => w.kind === "sleep").map((w) => ({ op, w })),
  );
  if (sleeps.length > 0) {
    void send(tx`INSERT INTO steps (run_id, position, key, kind, status, started_at, wake_at)
      SELECT v.run_id, v.position, v.key, 'sleep', 'waiting', v.at, v.wake_at
      FROM unnest(${sleeps.map((s) => s.op.runId)}::text[], ${sleeps.map((s) => s.op.token)}::bigint[],
        ${sleeps.map((s) => s.w.position)}::int[], ${sleeps.map((s) => s.w.key)}::text[],
        ${sleeps.map((s) => s.op.at)}::bigint[], ${sleeps.map((s) => s.w.wakeAt)}::bigint[])
        AS v(run_id, token, position, key, at, wake_at)
      JOIN runs r ON r.id = v.run_id AND r.status = 'running' AND r.fencing_token = v.token
      ON CONFLICT (run_id, position) DO NOTHING`);
  }
  return send(tx`WITH v AS (
      SELECT * FROM unnest(${ops.map((o) => o.runId)}::text[], ${ops.map((o) => o.token)}::bigint[],
        ${ops.map((o) => o.availableAt)}::bigint[], ${ops.map((o) => o.at)}::bigint[])
        AS v(id, token, available_at, at)
    ), w AS (
      SELECT * FROM unnest(${sleeps.map((s) => s.op.runId)}::text[],
        ${sleeps.map((s) => s.op.token)}::bigint[], ${sleeps.map((s) => s.w.position)}::int[])
        AS w(run_id, token, position)
    ), s AS (
      SELECT v.*, EXISTS (SELECT 1 FROM w JOIN steps ON steps.run_id = w.run_id
          AND steps.position = w.position
        WHERE w.run_id = v.id AND w.token = v.token AND steps.status <> 'waiting') AS resolved
      FROM v
    ), u AS (
      UPDATE runs r SET status = CASE WHEN s.resolved THEN 'queued' ELSE 'waiting' END,
        available_at = CASE WHEN s.resolved THEN s.at ELSE s.available_at END,
        updated_at = s.at, lease_owner = NULL
      FROM s WHERE r.id = s.id AND r.status = 'running' AND r.fencing_token = s.token
      RETURNING r.id, r.status, r.workflow, r.concurrency_key, r.concurrency_limit, s.at
    ), ${unblock(tx, "u", "u")}
    SELECT id, status, (SELECT count(*) FROM (SELECT pg_notify(${tx.unsafe(wakeChannel)}, workflow)
        FROM (SELECT workflow FROM u WHERE status = 'queued'
          UNION SELECT workflow FROM unblocked) AS w) AS n) AS notified
    FROM u`);
}
