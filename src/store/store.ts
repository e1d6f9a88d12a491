import type { AdminStore } from "./admin-store.ts";
import type { FlowStore } from "./flow-store.ts";
import type { JournalStore } from "./journal-store.ts";
import type { MessageStore } from "./message-store.ts";
import type { RegistryStore } from "./registry-store.ts";
import type { RunStore } from "./run-store.ts";
import type { ScheduleStore } from "./schedule-store.ts";
import type { UiStore } from "./ui-store.ts";

export type { AdminStore, StoreCapabilities, WriteLockWait } from "./admin-store.ts";
export type { FlowStore } from "./flow-store.ts";
export type {
  ClaimedRun,
  ClaimScope,
  JournalOp,
  JournalOpResult,
  JournalStore,
  NoticedRun,
  RunOutcome,
  SetOp,
  WaitRegistration,
  WakeReason,
} from "./journal-store.ts";
export type { EventRecord, MessageStore } from "./message-store.ts";
export type {
  Admission,
  AdmissionOutcome,
  RegistryStore,
  RunAdmission,
} from "./registry-store.ts";
export type { JournalEntry, NewRun, RunRecord } from "./run-records.ts";
export type { QueueStats, RunFilter, RunSearch, RunStore, RunWhere } from "./run-store.ts";
export type {
  CatchupPolicy,
  OverlapPolicy,
  SchedulePlan,
  ScheduleRecord,
  ScheduleStore,
} from "./schedule-store.ts";
export type { UiStore } from "./ui-store.ts";

/**
 * Everything the engine needs from a database: the sum of its roles. An adapter implements
 * all of it; each part of the engine depends on the roles it uses (a worker on
 * {@link JournalStore}, the scheduler on {@link ScheduleStore}, …). The worker never knows
 * which database it talks to; the conformance suite (`conformance*.ts`, run by
 * `runStoreConformance`) holds every adapter to one contract.
 * Times are parameters (ms since the epoch from the injected Clock), never read in SQL.
 * API tokens are not part of it: they are the HTTP server's own port (`TokenStore` in
 * `server/token-store.ts`), which the bundled stores provide as their `tokens` member.
 */
export interface Store
  extends RunStore,
    JournalStore,
    MessageStore,
    RegistryStore,
    ScheduleStore,
    UiStore,
    AdminStore {
  /** Versioned flow documents (YAML/JSON DAGs). */
  flows: FlowStore;
}
