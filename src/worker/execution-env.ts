import type { Clock } from "../core/clock.ts";
import type { EngineEvent } from "../core/engine-event.ts";
import type { EntryKind, RunId, RunStatus } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import type { ClaimedRun, JournalStore } from "../store/journal-store.ts";
import type { NewRun } from "../store/run-records.ts";
import type { NewLogEntry, UiStore } from "../store/ui-store.ts";
import type { JournalWriter } from "./journal-writer.ts";

/** What a run tells the journal writer so more of its steps share a commit. */
export type GroupCommitHints = Pick<JournalWriter, "delivering" | "stepWaiting">;

import type { LogLimits } from "./step-logger.ts";
import type { UncaughtErrorInfo } from "./step-scope.ts";

/** What an execution needs from the engine around it. */
export interface ExecutionEnv {
  clock: Clock;
  /** Reports progress (steps starting and ending) to the engine's listeners. */
  emit(event: EngineEvent): void;
  /** Whether anyone hears `emit`, so that no event is built for nobody; absent: always. */
  listening?(): boolean;
  /** Steps that run in the store's transaction, and `ctx.setTags`. */
  store: Pick<JournalStore, "transactionalStep"> & Pick<UiStore, "tags">;
  /** `delivering` and `stepWaiting`, when given, let a commit wait for steps to join it. */
  writer: Pick<JournalWriter, "write"> & Partial<GroupCommitHints>;
  payloadLimitBytes: number;
  /** Where `ctx.log`, a step's `log` and its console output go (batched); absent: nowhere. */
  logs?: { write(entry: NewLogEntry): void; limits: LogLimits; captureConsole: boolean };
  /**
   * Replay only: recorded outcomes are returned, and the first position without a final
   * recorded outcome ends the execution instead of running anything (`cairn replay`).
   */
  replayOnly?: boolean;
  /** Creates (idempotently) the child run of an `invoke`. */
  startChild(request: {
    parent: ClaimedRun;
    position: number;
    childId: RunId;
    workflow: Workflow<unknown, unknown>;
    input: unknown;
  }): Promise<void>;
  /**
   * Builds the run that `ctx.continueAsNew(input)` starts (validated input, the workflow's
   * options). Absent in replays, where a continuation ends the run like a return.
   */
  buildSuccessor?(
    run: ClaimedRun,
    workflow: Workflow<unknown, unknown>,
    input: unknown,
  ): Promise<NewRun>;
  /** Hears of errors a step attempt leaked past its own promise (timers, stray rejections). */
  reportUncaught?(error: Error, info: Omit<UncaughtErrorInfo, "runsInFlight">): void;
}

/** How an execution ended, as far as this worker is concerned. */
export type ExecutionOutcome =
  /**
   * `output`: as the store now holds it (serialized). `continuedTo`: the run ended with
   * `ctx.continueAsNew`; the store created this run.
   */
  | { type: "completed"; output: string; continuedTo?: RunId }
  /** `stored`: the error as the store now holds it (serialized). */
  | { type: "failed"; error: Error; stored: string }
  | { type: "suspended"; status: RunStatus }
  | { type: "released" }
  /** Replay-only execution reached a position the journal has no final outcome for. */
  | { type: "replayed"; next: { position: number; kind: EntryKind; key: string } }
  | { type: "aborted"; reason: Error };
