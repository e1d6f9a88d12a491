import type { Duration } from "./duration.ts";
import type { SerializedError } from "./serializer.ts";
import type { EntryKind, EntryStatus, RunId, RunStatus } from "./types.ts";

/** A step (or other journal position) as `getRun` shows it. */
export interface StepInfo {
  position: number;
  key: string;
  kind: EntryKind;
  status: EntryStatus;
  attempt: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  /** Sleep: wake time; waits: timeout. */
  wakeAt: Date | null;
  output: unknown;
  error: SerializedError | null;
  /** For an `invoke`: the child run's id. */
  childRunId?: RunId;
}

/** A run's state, steps and outcome. */
export interface RunInfo<TOutput = unknown> {
  id: RunId;
  workflow: string;
  /** The version of the workflow's code the run started with (1 for unversioned code). */
  workflowVersion: number;
  status: RunStatus;
  input: unknown;
  output: TOutput | undefined;
  error: SerializedError | null;
  parentId: RunId | null;
  /** The run this one continues: `ctx.continueAsNew` there started this run. */
  continuedFrom: RunId | null;
  /** The run that continues this one (it ended with `ctx.continueAsNew`). */
  continuedTo: RunId | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  steps: StepInfo[];
}

/** A started run. */
export interface RunHandle<TOutput = unknown> {
  readonly id: RunId;
  /** The workflow's name; empty for a handle made from a bare id with `cairn.handle(id)`. */
  readonly workflow: string;
  /** False when a run with this id already existed and was returned instead. */
  readonly created: boolean;
  /**
   * False when the existing run returned for this id was started with a different input
   * (compared as stored, object keys in any order): this start's input was not used.
   * True for a new run, and for handles that carry no input of their own.
   */
  readonly inputMatches: boolean;
  /**
   * Waits for the run to end; returns its output or throws its error. For a run that
   * continued as new, follows the chain: the last run's output or error.
   */
  result(): Promise<TOutput>;
  /** The run's current state. */
  info(): Promise<RunInfo<TOutput>>;
}

export interface StartOptions<TInput = unknown> {
  /**
   * The run's id; starting again with the same id returns the existing run (G5), with
   * `created: false` and `inputMatches` telling whether its input was the same.
   */
  id?: string;
  /** Searchable labels (`GET /api/v1/runs?tag=customer:c1`), set when the run is created. */
  tags?: Record<string, string>;
  /**
   * Overrides the workflow's `idempotency`: a start whose key matches a run of the same
   * workflow created less than `ttl` ago returns that run (`created: false`).
   * @example cairn.start(charge, order, { idempotency: { key: `charge-${order.id}`, ttl: "24h" } })
   */
  idempotency?: { key: string | ((input: TInput) => string | number); ttl: Duration };
}
