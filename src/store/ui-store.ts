import type { RunId } from "../core/types.ts";
import type { JournalEntry, NewRun, RunRecord } from "./run-records.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** One log line of a workflow (`stepKey` null) or of a step's attempt. */
export interface NewLogEntry {
  runId: RunId;
  stepKey: string | null;
  attempt: number | null;
  level: LogLevel;
  message: string;
  /** JSON of the structured fields, or null. */
  fields: string | null;
  at: number;
  /** The last line kept of a step attempt that logged more than its cap. */
  truncated: boolean;
}

/** A stored log line; `seq` grows across the whole table (a cursor for paging and following). */
export interface LogRecord extends NewLogEntry {
  seq: number;
}

/** A worker process as its heartbeat last described it. */
export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  workflows: string[];
  concurrency: number;
  startedAt: number;
  lastSeenAt: number;
  /** After this the worker counts as gone (several missed heartbeats). */
  expiresAt: number;
}

/** The reads and writes of the web UI (migration 0005); part of {@link Store}. */
export interface UiStore {
  logs: {
    /**
     * Stores log lines in one transaction; returns each line's `seq`, or null for a line
     * whose run no longer exists.
     */
    append(entries: readonly NewLogEntry[]): Promise<(number | null)[]>;
    /** A run's lines in `seq` order, after `afterSeq`, optionally of one step. */
    list(
      runId: RunId,
      filter?: { stepKey?: string; afterSeq?: number; limit?: number },
    ): Promise<LogRecord[]>;
  };
  workers: {
    /** Creates or refreshes a worker's row, and drops the rows expired by `at`. */
    beat(worker: WorkerRecord): Promise<void>;
    /** Workers not expired at `now`, with the runs each one holds a lease on. */
    list(now: number): Promise<(WorkerRecord & { runs: RunId[] })[]>;
    remove(id: string): Promise<void>;
  };
  eventRuns: {
    record(eventId: string, started: readonly RunId[], woke: readonly RunId[]): Promise<void>;
    /** What each of these events started and woke. */
    list(eventIds: readonly string[]): Promise<Map<string, { started: RunId[]; woke: RunId[] }>>;
  };
  tags: {
    set(runId: RunId, tags: Readonly<Record<string, string>>): Promise<void>;
    get(runIds: readonly RunId[]): Promise<Map<RunId, Record<string, string>>>;
  };
  /** Ids of the runs whose parent is `runId`, oldest first. */
  childRunIds(runId: RunId): Promise<RunId[]>;
  /**
   * Creates a run whose journal starts with `journal` (a rerun), with its tags, in one
   * transaction: no worker can claim it before its copied entries exist.
   * @throws CairnError `INVALID_STATE` when a run with this id exists.
   */
  createRunWithJournal(
    run: NewRun,
    journal: readonly JournalEntry[],
    tags: Readonly<Record<string, string>>,
  ): Promise<RunRecord>;
}
