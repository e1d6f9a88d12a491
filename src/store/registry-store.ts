import type { RunId } from "../core/types.ts";
import type { ClaimedRun } from "./journal-store.ts";
import type { NewRun, RunRecord } from "./run-records.ts";

/** What a worker with the code decided for an unadmitted run. */
export type Admission =
  | {
      fields: Pick<
        NewRun,
        "queue" | "priority" | "concurrency" | "rateLimit" | "deadlineAt" | "workflowVersion"
      >;
      delayMs: number;
    }
  | { error: string };

/** One run's admission, for `admitRuns`. */
export interface RunAdmission {
  id: RunId;
  admission: Admission;
  /**
   * The admitting worker takes the run in the same write (status running, lease until
   * `leaseUntil`, a new fencing token) when it has a free slot and the run needs no flow
   * control: without it a run started elsewhere waited for a second commit, the claim.
   * Taken only when admitted now and without a journal; otherwise it is only admitted.
   */
  claim?: { owner: string; leaseUntil: number };
}

/**
 * What one `admitRuns` did. Only runs still awaiting admission count: one another worker
 * admitted first is in none of these, so a worker that lost the race neither rings nor looks
 * for a claim that is not there.
 */
export interface AdmissionOutcome {
  /** Runs taken by their admission's `claim`, fresh (journal empty, no takeover). */
  claimed: ClaimedRun[];
  /** How many runs it admitted and left for a claim (no claim asked, a delay, a journal). */
  unclaimed: number;
  /** The runs it failed. */
  failed: RunId[];
}

/**
 * The workflows every process on the database knows of, including processes without their
 * code: which are registered, their event triggers, which are paused, and the runs started
 * without the code that wait for a worker to admit them. Part of {@link Store}.
 */
export interface RegistryStore {
  /** Records that a process runs these workflows, so code-less processes may start them by name. */
  registerWorkflows(names: readonly string[], at: number): Promise<void>;
  listWorkflows(): Promise<{ name: string; seenAt: number }[]>;
  /** Replaces a workflow's event triggers (conditions are jsonata expressions, '' for none). */
  setEventTriggers(
    workflow: string,
    triggers: readonly { event: string; condition: string }[],
    at: number,
  ): Promise<void>;
  eventTriggers(event: string): Promise<{ workflow: string; condition: string }[]>;
  /** Unadmitted runs of these workflows, oldest first. */
  pendingAdmission(workflows: readonly string[], limit: number): Promise<RunRecord[]>;
  /**
   * Admits runs (flow-control columns set, claimable after `delayMs`) or fails them, in one
   * transaction: a worker admitting a hundred runs started elsewhere pays one commit, not a
   * hundred. A run no longer waiting for admission (another worker admitted it) is skipped.
   */
  admitRuns(admissions: readonly RunAdmission[], at: number): Promise<AdmissionOutcome>;
  /** A paused workflow's runs are not claimed (they wait in the store) until it is resumed. */
  setWorkflowPaused(workflow: string, paused: boolean, at: number): Promise<void>;
  pausedWorkflows(): Promise<string[]>;
}
