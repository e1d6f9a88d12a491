import type { EntryKind, EntryStatus, RunId, RunStatus } from "../core/types.ts";

/** A run row. Payloads (`input`, `output`) are serialized text; `error` is JSON. */
export interface RunRecord {
  id: RunId;
  workflow: string;
  status: RunStatus;
  input: string | null;
  output: string | null;
  error: string | null;
  parentId: RunId | null;
  parentPosition: number | null;
  depth: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  /** When the run can next be claimed: queued → now, waiting → wake time, running → lease expiry. */
  availableAt: number | null;
  deadlineAt: number | null;
  leaseOwner: string | null;
  /** Grows on every claim; every write of the run must carry the current one (fencing). */
  fencingToken: number;
  /** Only workers subscribed to this queue claim the run. */
  queue: string;
  /** Higher first among due runs. */
  priority: number;
  concurrencyKey: string | null;
  concurrencyLimit: number | null;
  rateKey: string | null;
  rateLimit: number | null;
  ratePeriodMs: number | null;
  /** Set while the run waits for a concurrency slot of this `workflow\u0000key`. */
  blockedOn: string | null;
  debounceKey: string | null;
  scheduleId: string | null;
  /** A scheduled run's logical interval: its slot and the next one. */
  slotAt: number | null;
  slotEndAt: number | null;
  /** False until a worker with the workflow's code admitted a run started without it. */
  admitted: boolean;
  /** The run this one continues (`ctx.continueAsNew` there started this run). */
  continuedFrom: RunId | null;
  /** The run that continues this one: it completed with `ctx.continueAsNew`. */
  continuedTo: RunId | null;
  /**
   * The version of the workflow's code the run started with (`defineWorkflow({ version })`,
   * 1 for a workflow without one); only a worker with that version claims it.
   */
  workflowVersion: number;
}

/** One position of a run's journal. */
export interface JournalEntry {
  position: number;
  key: string;
  kind: EntryKind;
  status: EntryStatus;
  output: string | null;
  error: string | null;
  attempt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Sleep: wake time. Event or signal wait: timeout. */
  wakeAt: number | null;
  /** Kind-specific JSON: the event name and match of a wait, the child run id of an invoke. */
  detail: string | null;
  /**
   * The order in which this outcome was delivered to the workflow (see DeliveryOrder); a
   * replay delivers recorded outcomes in this order. Null for outcomes returned at once
   * (now, random, uuid) and for entries not final yet.
   */
  seq: number | null;
}

export interface NewRun {
  id: RunId;
  workflow: string;
  input: string | null;
  parentId?: RunId | null;
  parentPosition?: number | null;
  depth?: number;
  deadlineAt?: number | null;
  createdAt: number;
  /** (Default: "default") */
  queue?: string;
  priority?: number;
  concurrency?: { key: string; limit: number } | null;
  rateLimit?: { key: string; limit: number; periodMs: number } | null;
  /** Start after `periodMs` of quiet: a later start with the same key replaces the input and restarts the wait. */
  debounce?: { key: string; periodMs: number } | null;
  schedule?: { id: string; slotAt: number; slotEndAt: number | null } | null;
  /**
   * False for a run started by a process without the workflow's code: it waits, unclaimable,
   * until a worker with the code admits it (`admitRuns`). (Default: true)
   */
  admitted?: boolean;
  /** The version of the workflow's code it starts on. (Default: 1) */
  workflowVersion?: number;
  /**
   * A start whose `key` (per workflow) is held by a run created less than `ttlMs` before
   * this one's `createdAt` returns that run instead of creating this one. Claimed through a
   * unique key row in the same transaction as the insert, so concurrent starts agree.
   */
  idempotency?: { key: string; ttlMs: number } | null;
}
