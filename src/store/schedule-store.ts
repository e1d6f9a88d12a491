import type { RunId } from "../core/types.ts";
import type { CatchupPolicy, OverlapPolicy } from "../core/workflow.ts";
import type { NewRun } from "./run-records.ts";

export type { CatchupPolicy, OverlapPolicy } from "../core/workflow.ts";

export interface ScheduleRecord {
  id: string;
  workflow: string;
  cron: string;
  tz: string;
  input: string | null;
  overlap: OverlapPolicy;
  catchup: CatchupPolicy;
  paused: boolean;
  /** The next slot not yet handled. */
  nextAt: number;
  /** `trigger` for schedules declared by a workflow's cron trigger, `api` otherwise. */
  source: "trigger" | "api";
  createdAt: number;
  updatedAt: number;
}

/** What the scheduler decided for one due schedule: the runs to create and the next slot. */
export interface SchedulePlan {
  runs: NewRun[];
  nextAt: number;
}

/** Cron schedules and the runs of their slots. Part of {@link Store}. */
export interface ScheduleStore {
  schedules: {
    /** Creates or replaces a schedule; `nextAt` is kept when the cron and zone are unchanged. */
    upsert(
      schedule: Omit<ScheduleRecord, "createdAt" | "updatedAt" | "paused"> & { paused?: boolean },
      at: number,
    ): Promise<ScheduleRecord>;
    get(id: string): Promise<ScheduleRecord | undefined>;
    list(): Promise<ScheduleRecord[]>;
    /** @throws CairnError `NOT_FOUND` */
    setPaused(id: string, paused: boolean, at: number, nextAt?: number): Promise<ScheduleRecord>;
    delete(id: string): Promise<boolean>;
    /**
     * Locks up to `limit` due schedules (`next_at <= now`, not paused) and applies `plan` to
     * each: its runs are created (one per schedule slot at most, enforced by a unique index)
     * and `next_at` moves on, in one transaction. Safe with many schedulers.
     */
    fireDue(
      now: number,
      limit: number,
      plan: (schedule: ScheduleRecord, hasActiveRun: boolean) => SchedulePlan,
      /** Only schedules of these workflows (the process needs their definitions). */
      workflows?: readonly string[],
    ): Promise<{ schedules: number; created: RunId[] }>;
    /** Creates the given slot runs (existing slots are left alone); returns the new ids. */
    createRuns(runs: readonly NewRun[]): Promise<RunId[]>;
  };
}
