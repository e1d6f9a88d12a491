import type { Store } from "../src/index.ts";

/** Write transactions the store ran, by kind. */
export interface CommitCounts {
  /**
   * Transactions of `createRun` (the run rows, claimed by the local worker): the store batches
   * the starts of one event-loop turn. `startCalls` when the store does not count them.
   */
  starts: number;
  /** `createRun` calls: one per `cairn.start`. */
  startCalls: number;
  /** `commit`: the journal writer's group-commit flushes. */
  journal: number;
  /** `claimRuns` that claimed at least one run (an empty claim writes nothing). */
  claims: number;
  /** `renewLeases` with at least one lease (heartbeats). */
  renewals: number;
}

export interface CommitCounter {
  /** Counts so far. */
  read(): CommitCounts;
}

/**
 * Counts the store's write transactions, each one a durable commit (an fsync on SQLite
 * with synchronous=FULL). `cairn.writer.stats` only sees the journal writer's flushes;
 * the run rows written by `cairn.start` are separate transactions, and for write
 * amplification they count just the same. The wrappers only add a counter increment.
 */
export function countCommits(store: Store): CommitCounter {
  const counts: CommitCounts = { starts: 0, startCalls: 0, journal: 0, claims: 0, renewals: 0 };
  const createCommits = () => store.createCommits ?? counts.startCalls;
  const createCommitsBefore = createCommits();
  const createRun = store.createRun.bind(store);
  const commit = store.commit.bind(store);
  const claimRuns = store.claimRuns.bind(store);
  const renewLeases = store.renewLeases.bind(store);
  store.createRun = (...args) => {
    counts.startCalls++;
    return createRun(...args);
  };
  store.commit = (...args) => {
    counts.journal++;
    return commit(...args);
  };
  store.claimRuns = async (...args) => {
    const claimed = await claimRuns(...args);
    if (claimed.length > 0) counts.claims++;
    return claimed;
  };
  store.renewLeases = (...args) => {
    if (args[1].length > 0) counts.renewals++;
    return renewLeases(...args);
  };
  return { read: () => ({ ...counts, starts: createCommits() - createCommitsBefore }) };
}

export function totalCommits(c: CommitCounts): number {
  return c.starts + c.journal + c.claims + c.renewals;
}

export function diffCommits(after: CommitCounts, before: CommitCounts): CommitCounts {
  return {
    starts: after.starts - before.starts,
    journal: after.journal - before.journal,
    startCalls: after.startCalls - before.startCalls,
    claims: after.claims - before.claims,
    renewals: after.renewals - before.renewals,
  };
}
