import type { SerializedError } from "./serializer.ts";
import type { EntryKind, EntryStatus, RunId, RunStatus } from "./types.ts";

/**
 * What the engine reports as it works, for live progress, logs and metrics. Events are
 * local to the process that caused them: a run's steps are reported by the process that
 * executes it.
 */
export type EngineEvent =
  | {
      type: "run";
      runId: RunId;
      workflow: string;
      status: RunStatus;
      at: number;
      error?: SerializedError;
      /** Why a run became `queued`: newly created, retried, or handed back at shutdown. */
      reason?: "created" | "retry" | "released";
    }
  | {
      type: "step";
      runId: RunId;
      workflow: string;
      key: string;
      kind: EntryKind;
      /** `started` when an attempt begins; the entry's status when it ends. */
      status: "started" | EntryStatus;
      attempt: number;
      at: number;
      durationMs?: number;
      error?: SerializedError;
    }
  | {
      type: "claim";
      /** Runs claimed in one go. */
      count: number;
      /** Of those, runs taken over from an expired lease. */
      takeovers: number;
      latencyMs: number;
      at: number;
    }
  | {
      /** A log line of a workflow or step, once stored (`entry.seq` orders a run's lines). */
      type: "log";
      runId: RunId;
      entry: {
        seq: number;
        stepKey: string | null;
        attempt: number | null;
        level: "debug" | "info" | "warn" | "error";
        message: string;
        fields: string | null;
        at: number;
        truncated: boolean;
      };
    }
  | {
      /**
       * This process waited for another process's database write lock longer than the
       * store's threshold (`waiting`), then got it (`acquired`) or gave its writes up at the
       * busy timeout (`gave-up`). SQLite only; `holderPid` where the kernel says.
       */
      type: "store-lock";
      state: "waiting" | "acquired" | "gave-up";
      path: string;
      waitedMs: number;
      holderPid?: number;
      holderName?: string;
      at: number;
    }
  | {
      /**
       * Retention deleted a chunk of finished runs (`cairn.purgeRuns` or a background pass).
       * Every purge ends with a `done` report, with `runs: 0` if its last chunk found none.
       */
      type: "purge";
      /** Runs deleted by this chunk, with their journals. */
      runs: number;
      /** The cut-off: runs that finished before it were eligible. */
      before: number;
      /** The purge's last report. */
      done: boolean;
      /** With `done`: the purge stopped at its bound, expired runs may remain. */
      more: boolean;
      at: number;
    }
  | {
      /**
       * The store had not confirmed these runs' leases for a whole lease (it failed or did
       * not answer): this worker stopped executing them, since another may own them now.
       */
      type: "lease-expired";
      runIds: RunId[];
      at: number;
    };

export type EngineEventListener = (event: EngineEvent) => void;
