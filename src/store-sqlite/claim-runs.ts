import type { ClaimedRun, ClaimScope, RunRecord } from "../store/store.ts";
import { concurrencySlot } from "./commit-batch.ts";
import { toRun } from "./rows.ts";
import type { Statements } from "./statements.ts";

/** `superjson.stringify(null)`: what a wait that timed out resolves to. */
const serializedNull = '{"json":null}';

/**
 * True when a claim may find something: a read, outside any transaction. Most claim passes
 * of a worker beside others find nothing (each process's commits wake the others), and an
 * empty claim still took the file's write lock, making the commits of the workers that had
 * work wait for it. A run that becomes due just after this read wakes the worker again.
 */
export function anyClaimable(sql: Statements, scope: ClaimScope, now: number): boolean {
  return sql.claimable.all(claimableParams(scope, now, 1)).length > 0;
}

function claimableParams(scope: ClaimScope, now: number, limit: number) {
  return {
    now,
    workflows: JSON.stringify(scope.workflows),
    queues: JSON.stringify(scope.queues ?? ["default"]),
    limit,
    no_suspects: scope.suspects === 0 ? 1 : 0,
    versions: scope.versions ? JSON.stringify(scope.versions) : null,
  };
}

/**
 * Claims up to `limit` due runs of the scope for `owner`, inside the caller's write
 * transaction: admits each past flow control, takes its lease and fencing token, and resolves
 * its due sleeps and wait timeouts.
 */
export function claimRuns(
  sql: Statements,
  owner: string,
  scope: ClaimScope,
  now: number,
  leaseMs: number,
  limit: number,
): ClaimedRun[] {
  const candidates = sql.claimable.all(claimableParams(scope, now, limit * 2 + 8)).map((row) => {
    const { status, crash_count } = row as { status: string; crash_count: number };
    return {
      ...toRun(row as Record<string, unknown>),
      suspect: status === "running" && crash_count > 0,
    };
  });
  const claimed: ClaimedRun[] = [];
  let suspects = scope.suspects ?? Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (claimed.length >= limit) break;
    if (candidate.suspect && suspects-- <= 0) continue;
    const takeover = candidate.status === "running";
    // A takeover already holds its concurrency slot and has started.
    if (!takeover && !admit(sql, candidate, now)) continue;
    sql.claim.run({ owner, now, lease_until: now + leaseMs, id: candidate.id });
    const row = sql.getRun.get(candidate.id) as Record<string, unknown>;
    const run = toRun(row);
    // Sleeps and wait timeouts that are due resolve here, once, so that every later
    // replay sees the same outcome whatever its own clock says.
    for (const { position } of sql.unnumbered.all(run.id) as { position: number }[]) {
      sql.numberEntry.run(run.id, position);
    }
    const due = sql.dueWaits.all(run.id, now) as { position: number }[];
    for (const { position } of due) {
      sql.resolveDueWait.run(serializedNull, now, run.id, position);
    }
    if (due.length > 0) sql.deleteResolvedWaits.run(run.id, run.id);
    // Never claimed before, and created without entries (the claim counted them).
    const journalEmpty = candidate.startedAt === null && Number(row.claimed_journal_len) === 0;
    claimed.push({
      run,
      token: run.fencingToken,
      takeover,
      crashes: Number(row.crash_count),
      ...(journalEmpty ? { journalEmpty } : {}),
    });
  }
  return claimed;
}

/**
 * Flow control at the door: a run over its concurrency limit is parked (unclaimable
 * until a run of its key stops running); a first start over its rate limit is deferred
 * until the window frees. Both wait in the store, not in any worker's memory.
 */
function admit(sql: Statements, run: RunRecord, now: number): boolean {
  if (run.concurrencyLimit !== null) {
    const { n } = sql.runningWithKey.get(run.workflow, run.concurrencyKey) as { n: number };
    if (n >= run.concurrencyLimit) {
      sql.block.run(concurrencySlot(run.workflow, run.concurrencyKey), run.id);
      return false;
    }
  }
  if (run.rateLimit !== null && run.ratePeriodMs !== null && run.startedAt === null) {
    const window = sql.startsInWindow.get(run.workflow, run.rateKey, now - run.ratePeriodMs) as {
      n: number;
      oldest: number | null;
    };
    if (window.n >= run.rateLimit) {
      sql.deferTo.run((window.oldest ?? now) + run.ratePeriodMs, run.id);
      return false;
    }
  }
  return true;
}
