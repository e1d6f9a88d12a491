import type { Row, Sql } from "postgres";
import type { ClaimedRun, ClaimScope, RunRecord } from "../store/store.ts";
import { pipelinedTransaction } from "./pipeline.ts";
import type { Hot } from "./recycling-pool.ts";
import { toRun } from "./rows.ts";
import {
  claimByIds,
  concurrencySlot,
  crashBookkeeping,
  lockKey,
  resolveDueWaits,
} from "./run-statements.ts";

/**
 * Only the workflow versions the worker has (`ClaimScope.versions`): a run of another
 * version waits for a worker that has it, instead of being claimed and handed back.
 */
export function versionFilter(sql: Sql, scope: ClaimScope) {
  if (!scope.versions) return sql`TRUE`;
  return sql`(workflow || '@' || workflow_version) = ANY(${scope.versions as string[]}::text[])`;
}

/**
 * Claims up to `limit` due runs of `scope` for `owner`.
 *
 * One statement does the common case: pick due runs in order (priority, then when they
 * became available: new runs, due timers and expired leases share one queue), skipping rows
 * another transaction holds (`FOR UPDATE SKIP LOCKED`: concurrent claimers never wait for
 * each other and never take the same run), lease them with a new token and resolve their
 * due sleeps and timeouts. Runs under a concurrency or rate limit need an admission
 * decision that must not race other claimers; the statement leaves them to
 * {@link admitAndClaim}, which only runs when such runs were among the candidates. The
 * statement runs through `hot` (see `RecyclingPool.hot`), the admission in a transaction of
 * `sql`'s.
 */
export async function claimRuns(
  sql: Sql,
  owner: string,
  scope: ClaimScope,
  now: number,
  leaseMs: number,
  limit: number,
  hot: Hot,
): Promise<ClaimedRun[]> {
  if (limit <= 0 || scope.workflows.length === 0) return [];
  const rows = await hot((connection) =>
    claimStatement(connection, { owner, scope, now, leaseMs, limit }),
  );
  const claimed: ClaimedRun[] = rows
    .filter((row) => !row.controlled)
    .map((row) => ({
      run: toRun(row),
      token: Number(row.fencing_token),
      takeover: row.takeover,
      crashes: Number(row.crash_count),
      // Never claimed before and created without entries (the claim counted them): no
      // worker can have been writing an entry the statement's snapshot would miss.
      ...(row.journal_empty ? { journalEmpty: true } : {}),
    }));
  const controlled = rows.filter((row) => row.controlled).map((row) => row.candidate as string);
  if (controlled.length === 0) return claimed;
  const admitted = await admitAndClaim(sql, controlled, owner, scope, now, leaseMs);
  return [...claimed, ...admitted];
}

interface Claim {
  owner: string;
  scope: ClaimScope;
  now: number;
  leaseMs: number;
  limit: number;
}

function claimStatement(sql: Sql, { owner, scope, now, leaseMs, limit }: Claim) {
  const queues = [...(scope.queues ?? ["default"])];
  // Suspects (see ClaimScope.suspects) are picked apart, within their own limit.
  const suspects = Math.min(limit, scope.suspects ?? limit);
  const pick = (suspect: boolean, max: number) => sql`
      SELECT id, status, priority, available_at, started_at IS NULL AS fresh,
        status <> 'running' AND (concurrency_limit IS NOT NULL
          OR (rate_limit IS NOT NULL AND rate_period_ms IS NOT NULL AND started_at IS NULL))
          AS controlled
      FROM runs
      WHERE available_at <= ${now} AND workflow = ANY(${scope.workflows as string[]}::text[])
        AND queue = ANY(${queues}::text[])
        AND workflow NOT IN (SELECT workflow FROM paused_workflows)
        AND ${versionFilter(sql, scope)}
        AND (status = 'running' AND crash_count > 0) = ${suspect}
      ORDER BY priority DESC, available_at, id LIMIT ${max}
      FOR UPDATE SKIP LOCKED`;
  return sql`WITH plain AS (${pick(false, limit)}), suspects AS (${pick(true, suspects)}),
    candidates AS (
      SELECT * FROM suspects UNION ALL
      (SELECT * FROM plain ORDER BY priority DESC, available_at, id
        LIMIT ${limit} - (SELECT count(*) FROM suspects))
    ), claimed AS (
      UPDATE runs SET status = 'running', lease_owner = ${owner},
        available_at = ${now + leaseMs}, fencing_token = runs.fencing_token + 1,
        started_at = coalesce(runs.started_at, ${now}), updated_at = ${now},
        ${sql.unsafe(crashBookkeeping)}
      FROM candidates WHERE runs.id = candidates.id AND NOT candidates.controlled
      RETURNING runs.*
    ), ${resolveDueWaits(sql, now)}, cleared AS (
      DELETE FROM waits USING resolved
      WHERE waits.run_id = resolved.run_id AND waits.position = resolved.position
    )
    SELECT c.id AS candidate, c.controlled, c.status = 'running' AS takeover,
      c.fresh AND claimed.claimed_journal_len = 0 AS journal_empty,
      claimed.*
    FROM candidates c LEFT JOIN claimed ON claimed.id = c.id
    ORDER BY c.priority DESC, c.available_at, c.id`;
}

/**
 * Flow control at the door, as the SQLite store does it: a run over its concurrency limit
 * is parked (unclaimable, `blocked_on` its slot, until a run of its key stops running); a
 * first start over its rate limit is deferred until the window frees. Both wait in the
 * store, not in any worker's memory.
 *
 * Counting and parking must not interleave with another claimer's (both would admit: one
 * run too many) nor with a run of the slot stopping (it would unpark before the park, and
 * the parked run would wait forever). So each decision is taken under the slot's advisory
 * lock, which batches also take before a run of the slot stops running. Claims never wait:
 * the lock is only tried, and a run whose slot is busy is left for the next claim.
 */
async function admitAndClaim(
  sql: Sql,
  ids: readonly string[],
  owner: string,
  scope: ClaimScope,
  now: number,
  leaseMs: number,
): Promise<ClaimedRun[]> {
  const queues = [...(scope.queues ?? ["default"])];
  return pipelinedTransaction(sql, async (tx, send, commit) => {
    // The statement that picked them has committed: lock them again, if still due.
    const candidates = (
      await send(tx`SELECT * FROM runs
        WHERE id = ANY(${ids as string[]}::text[]) AND available_at <= ${now}
          AND status <> 'running' AND queue = ANY(${queues}::text[])
          AND workflow NOT IN (SELECT workflow FROM paused_workflows)
        ORDER BY priority DESC, available_at, id
        FOR UPDATE SKIP LOCKED`)
    ).map(toRun);
    const claims: Promise<Row[]>[] = [];
    for (const run of candidates) {
      const limited = run.concurrencyLimit !== null;
      const rated = run.rateLimit !== null && run.ratePeriodMs !== null && run.startedAt === null;
      const [locks] = await send(tx`SELECT
        ${limited ? tryLock(tx, lockKey.slot(run.workflow, run.concurrencyKey)) : tx`TRUE`} AS slot,
        ${rated ? tryLock(tx, lockKey.rate(run.workflow, run.rateKey)) : tx`TRUE`} AS rate`);
      if (!locks?.slot || !locks.rate) continue;
      if (limited && (await countRunning(tx, run)) >= (run.concurrencyLimit ?? 0)) {
        void send(tx`UPDATE runs SET available_at = NULL, blocked_on = ${concurrencySlot(run)}
          WHERE id = ${run.id}`);
        continue;
      }
      if (rated) {
        const [window] = await tx`SELECT count(*) AS n, min(started_at) AS oldest FROM runs
          WHERE workflow = ${run.workflow} AND rate_key IS NOT DISTINCT FROM ${run.rateKey}
            AND rate_limit IS NOT NULL AND started_at > ${now - (run.ratePeriodMs ?? 0)}`;
        if (Number(window?.n) >= (run.rateLimit ?? 0)) {
          const oldest = window?.oldest === null ? now : Number(window?.oldest);
          void send(tx`UPDATE runs SET available_at = ${oldest + (run.ratePeriodMs ?? 0)}
            WHERE id = ${run.id}`);
          continue;
        }
      }
      claims.push(send(claimByIds(tx, [run.id], owner, now, leaseMs)));
    }
    await commit();
    const claimed = (await Promise.all(claims)).flat();
    return claimed.map((row) => ({
      run: toRun(row),
      token: Number(row.fencing_token),
      takeover: false,
      crashes: 0,
    }));
  });
}

function tryLock(tx: Sql, key: string) {
  return tx`pg_try_advisory_xact_lock(hashtext(current_schema() || ${key}))`;
}

async function countRunning(tx: Sql, run: RunRecord): Promise<number> {
  const [row] = await tx`SELECT count(*) AS n FROM runs
    WHERE workflow = ${run.workflow} AND concurrency_key IS NOT DISTINCT FROM ${run.concurrencyKey}
      AND status = 'running' AND concurrency_limit IS NOT NULL`;
  return Number(row?.n);
}
