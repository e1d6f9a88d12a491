import type { RunId, RunStatus } from "../core/types.ts";
import type { JournalEntry, NewRun, RunRecord } from "./run-records.ts";

export interface RunFilter {
  workflow?: string;
  status?: RunStatus;
  parentId?: RunId;
  createdAfter?: number;
  createdBefore?: number;
  /** Keyset cursor: runs created before this `(createdAt, id)`. */
  before?: { createdAt: number; id: RunId };
  /** Change feed: runs whose row changed after this time, oldest change first. */
  updatedAfter?: number;
  /** Runs whose id starts with this. */
  idPrefix?: string;
  /** Runs carrying every one of these tags. */
  tags?: readonly { key: string; value: string }[];
  /**
   * Runs whose input or output JSON holds these values at these paths (`searchRuns` only).
   * No index covers them: they are checked on at most `scanLimit` runs, the newest that
   * match the other (indexed) fields after the cursor.
   */
  where?: readonly RunWhere[];
  /** How many runs a `where` search examines per call. (Default: 10_000; at most 100_000) */
  scanLimit?: number;
  limit?: number;
}

/** `input.customer.id:c-17`: the value at a JSON path of the run's input or output. */
export interface RunWhere {
  source: "input" | "output";
  /** Object keys, and array indexes as numbers. */
  path: readonly (string | number)[];
  /** Matches a JSON string equal to it, or a number, boolean or null written this way. */
  value: string;
}

/** What a `where` search found, and how far it looked. */
export interface RunSearch {
  runs: RunRecord[];
  /**
   * The last run examined when the scan stopped at `scanLimit` before the page was full:
   * older runs were not looked at; pass it as `before` to go on. Null when nothing is left.
   */
  scannedTo: { createdAt: number; id: RunId } | null;
}

/** How much work is due and how long the oldest due run has waited. */
export interface QueueStats {
  /** Runs whose `availableAt` has passed and that no worker holds (queued, or woken). */
  due: number;
  /** The earliest `availableAt` among them, or null. */
  oldestDueAt: number | null;
  /** Runs executing now (leased). */
  running: number;
  /** Runs suspended on a sleep, event, signal or child. */
  waiting: number;
}

/**
 * The runs as a whole, outside any worker's lease: create, read, search, cancel, retry,
 * count and purge them. Part of {@link Store}.
 */
export interface RunStore {
  /** Creates a run, or returns the existing one with that id (`created: false`). */
  createRun(
    run: NewRun,
    claim?: { owner: string; leaseUntil: number },
  ): Promise<{ run: RunRecord; created: boolean; debounced?: boolean }>;
  /**
   * Transactions `createRun` has run so far, for write-amplification figures: it batches
   * the starts of one event-loop turn, so this counts fewer than its calls.
   */
  readonly createCommits?: number;
  getRun(id: RunId): Promise<RunRecord | undefined>;
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  /** `listRuns` with `filter.where` conditions on input/output JSON, over a bounded scan. */
  searchRuns(filter: RunFilter): Promise<RunSearch>;
  getJournal(id: RunId): Promise<JournalEntry[]>;
  /**
   * The journals of several runs in one read (a run without entries maps to `[]`): a worker
   * that claimed a batch loads them in one round trip, not one per run.
   */
  getJournals(ids: readonly RunId[]): Promise<Map<RunId, JournalEntry[]>>;
  /** Cancels a run and its descendants; returns the ids that were cancelled. */
  cancelRun(id: RunId, error: string, at: number): Promise<RunId[]>;
  /**
   * Puts a failed or cancelled run back in the queue: its failed entries are dropped (those
   * steps run again), completed ones are kept. `deadlineAt` replaces the old deadline.
   * @throws CairnError `RUN_NOT_FOUND`, or `INVALID_STATE` when the run is not failed/cancelled.
   */
  retryRun(id: RunId, at: number, deadlineAt: number | null): Promise<RunRecord>;
  queueStats(now: number): Promise<QueueStats>;
  /**
   * Deletes finished runs (completed, failed, cancelled) that finished before `before`, with
   * their journals, waits, signals, tags and log lines; returns how many. With `limit`, at
   * most that many — the oldest — in one short transaction (retention's chunks); without,
   * all of them, chunk by chunk.
   */
  deleteFinishedRuns(before: number, limit?: number): Promise<number>;
}
