export type { Clock } from "./core/clock.ts";
export type { Duration } from "./core/duration.ts";
export type { EngineEvent, EngineEventListener } from "./core/engine-event.ts";
export {
  CairnError,
  type ErrorCode,
  LeaseLostError,
  NonDeterminismError,
  NonRetryableError,
  PayloadTooLargeError,
  RetryableError,
  RunCancelledError,
  RunTimeoutError,
  SerializationError,
  StepTimeoutError,
} from "./core/errors.ts";
export type { ReceivedEvent } from "./core/events.ts";
export type { RetryPolicy } from "./core/retry.ts";
export type { RunInfo, StepInfo } from "./core/run-info.ts";
export type { EntryKind, EntryStatus, RunId, RunStatus } from "./core/types.ts";
export type {
  StepOptions,
  StepRunInfo,
  WaitForEventOptions,
  WorkflowContext,
} from "./core/workflow.ts";
export type { ReplayReport } from "./engine/replay.ts";
export { Cairn, type CairnOptions, type RunHandle, type StartOptions } from "./sdk/cairn.ts";
export {
  type AnyWorkflow,
  defineWorkflow,
  type Workflow,
  type WorkflowOptions,
} from "./sdk/define-workflow.ts";
export type { QueueStats, Store, TokenRecord, TokenRole } from "./store/store.ts";
export type { WorkerOptions } from "./worker/worker.ts";
