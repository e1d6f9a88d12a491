/**
 * `cairnjs`: define workflows, open the engine on SQLite or PostgreSQL, start and watch runs.
 * Guide: docs/guide/README.md in the repository.
 * @module cairnjs
 */
export type { Clock } from "./core/clock.ts";
export type { Duration, DurationUnit } from "./core/duration.ts";
export type { EngineEvent, EngineEventListener } from "./core/engine-event.ts";
export {
  CairnError,
  ConfigError,
  ContextInStepError,
  type ErrorCode,
  errorCodes,
  LeaseLostError,
  NonDeterminismError,
  NonRetryableError,
  PayloadTooLargeError,
  PoisonRunError,
  RetryableError,
  RunCancelledError,
  RunTimeoutError,
  SerializationError,
  StepTimeoutError,
  UnawaitedCallError,
} from "./core/errors.ts";
export type { ReceivedEvent } from "./core/events.ts";
export type { Logger } from "./core/logger.ts";
export { InvalidNameError, maxNameLength } from "./core/names.ts";
export type { RetryPolicy } from "./core/retry.ts";
export type { RunInfo, StepInfo } from "./core/run-info.ts";
export type { SerializedError } from "./core/serializer.ts";
export type { EntryKind, EntryStatus, RunId, RunStatus } from "./core/types.ts";
export type {
  AnyOutcome,
  CatchupPolicy,
  OverlapPolicy,
  ScriptOptions,
  StepOptions,
  StepRunInfo,
  Trigger,
  WaitForAnyOptions,
  WaitForEventOptions,
  WorkflowContext,
  WorkflowFunction,
} from "./core/workflow.ts";
export type { BulkAction, BulkRequest, BulkResult } from "./engine/bulk-runs.ts";
export type { EngineOptions, SqliteStoreOptions } from "./engine/engine.ts";
export type { DeployResult, FlowCatalog } from "./engine/flows/flow-catalog.ts";
export type { FlowAction, FlowOptions } from "./engine/flows/flow-services.ts";
export type { HttpPolicy } from "./engine/flows/http-step.ts";
export type { LogOptions } from "./engine/log-options.ts";
export type { PurgeLimits } from "./engine/purge-runs.ts";
export type { ReplayReport } from "./engine/replay.ts";
export type {
  ReplayAllOptions,
  ReplayAllReport,
  RunDivergence,
} from "./engine/replay-all.ts";
export type { RerunOptions } from "./engine/rerun.ts";
export type { RetentionOptions } from "./engine/retention.ts";
export type { ScheduleInfo, ScheduleSpec, Schedules } from "./engine/schedules-api.ts";
export type { UncaughtErrorHook, UncaughtErrorInfo } from "./engine/uncaught-error-policy.ts";
export { Cairn, type CairnOptions, type RunHandle, type StartOptions } from "./sdk/cairn.ts";
export {
  type AnyWorkflow,
  defineWorkflow,
  type Workflow,
  type WorkflowOptions,
} from "./sdk/define-workflow.ts";
export type { FlowStore, FlowVersionRecord } from "./store/flow-store.ts";
export type { JournalEntry, NewRun, RunRecord } from "./store/run-records.ts";
// The storage contract, for a `store` passed to `Cairn.open` and for reading `cairn.store`:
// `Store` is the sum of its roles.
export type {
  AdminStore,
  Admission,
  ClaimedRun,
  ClaimScope,
  EventRecord,
  JournalOp,
  JournalOpResult,
  JournalStore,
  MessageStore,
  QueueStats,
  RegistryStore,
  RunFilter,
  RunSearch,
  RunStore,
  RunWhere,
  SchedulePlan,
  ScheduleRecord,
  ScheduleStore,
  Store,
  StoreCapabilities,
  WaitRegistration,
  WriteLockWait,
} from "./store/store.ts";
export type { LogLevel, LogRecord, NewLogEntry, UiStore, WorkerRecord } from "./store/ui-store.ts";
export type { Worker, WorkerOptions } from "./worker/worker.ts";
