import type { AdminStore } from "./admin-store.ts";
import type { FlowStore } from "./flow-store.ts";
import type { JournalStore } from "./journal-store.ts";
import type { MessageStore } from "./message-store.ts";
import type { RegistryStore } from "./registry-store.ts";
import type { RunStore } from "./run-store.ts";
import type { ScheduleStore } from "./schedule-store.ts";
import type { TokenRecord } from "./token-records.ts";
import type { UiStore } from "./ui-store.ts";

export type { AdminStore, StoreCapabilities, WriteLockWait } from "./admin-store.ts";
export type { FlowStore } from "./flow-store.ts";
export type {
  ClaimedRun,
  ClaimScope,
  JournalOp,
  JournalOpResult,
  JournalStore,
  SetOp,
  WaitRegistration,
} from "./journal-store.ts";
export type { EventRecord, MessageStore } from "./message-store.ts";
export type { Admission, RegistryStore } from "./registry-store.ts";
export type { JournalEntry, NewRun, RunRecord } from "./run-records.ts";
export type { QueueStats, RunFilter, RunSearch, RunStore, RunWhere } from "./run-store.ts";
export type {
  CatchupPolicy,
  OverlapPolicy,
  SchedulePlan,
  ScheduleRecord,
  ScheduleStore,
} from "./schedule-store.ts";
export type { TokenRecord, TokenRole } from "./token-records.ts";
export type { UiStore } from "./ui-store.ts";

/**
 * Everything the engine needs from a database: the sum of its roles. An adapter implements
 * all of it; each part of the engine depends on the roles it uses (a worker on
 * {@link JournalStore}, the scheduler on {@link ScheduleStore}, …). The worker never knows
 * which database it talks to; the conformance suite (`conformance*.ts`, run by
 * `runStoreConformance`) holds every adapter to one contract.
 * Times are parameters (ms since the epoch from the injected Clock), never read in SQL.
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

  /** API tokens for the HTTP server (`cairn tokens create|list|revoke`). */
  tokens: {
    create(
      token: Omit<TokenRecord, "revokedAt" | "lastUsedAt" | "expiresAt"> & {
        expiresAt?: number | null;
      },
    ): Promise<void>;
    /** Records a use at `at` (never moving it backwards). */
    touch(id: string, at: number): Promise<void>;
    list(): Promise<TokenRecord[]>;
    /** Marks a token revoked; false when no such active token exists. */
    revoke(id: string, at: number): Promise<boolean>;
    /** The active (not revoked) token with this secret hash, if any. */
    findActiveByHash(secretHash: string): Promise<TokenRecord | undefined>;
    /** True when any active token exists: the server then requires auth even on loopback. */
    anyActive(): Promise<boolean>;
  };
}
