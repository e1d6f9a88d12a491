import { type Clock, systemClock } from "../core/clock.ts";
import type { Duration } from "../core/duration.ts";
import { CairnError } from "../core/errors.ts";
import { type AnyWorkflow, isWorkflow, type Workflow } from "../core/workflow.ts";
import { versionOf } from "../core/workflow-version.ts";
import type { Store } from "../store/store.ts";
import type { SqliteStoreOptions } from "../store-sqlite/sqlite-store.ts";
import { JournalWriter } from "../worker/journal-writer.ts";
import { LogWriter } from "../worker/log-writer.ts";
import type { Worker } from "../worker/worker.ts";
import { createDatabaseClock, type DatabaseClock } from "./database-clock.ts";
import { EndWatch } from "./end-watch.ts";
import { EventBus } from "./event-bus.ts";
import { FlowCatalog } from "./flows/flow-catalog.ts";
import type { FlowAction, FlowOptions } from "./flows/flow-services.ts";
import type { LogOptions } from "./log-options.ts";
import { defaultDatabaseUrl, openStore } from "./open-store.ts";
import { registerTriggers } from "./register-triggers.ts";
import { RemoteWorkflows } from "./remote-workflows.ts";
import { type RetentionOptions, RetentionSweeper, resolveRetention } from "./retention.ts";
import type { UncaughtErrorHook } from "./uncaught-error-policy.ts";
import { WorkflowVersions } from "./workflow-versions.ts";

export type { SqliteStoreOptions } from "../store-sqlite/sqlite-store.ts";

export interface EngineOptions {
  /**
   * `sqlite:path/file.db` or `postgres://user@host:5432/name`.
   * (Default: `CAIRN_DB`, else `sqlite:.cairn/cairn.db`)
   */
  db?: string;
  /** An already open store; takes precedence over `db`. Closed by `close()`. */
  store?: Store;
  /** Workflows this process can run and start by name. */
  workflows?: readonly AnyWorkflow[];
  /** Time source for timers, leases and retries. (Default: the system clock) */
  clock?: Clock;
  /** Largest serialized input, step output or run output, in bytes. (Default: 2 MiB) */
  payloadLimitBytes?: number;
  /** Lease length in ms; a crashed worker's runs are resumed elsewhere after it. (Default: 15_000) */
  leaseMs?: number;
  /**
   * Workers that may die in a row running one run (the process exits or is killed mid-step)
   * without its journal moving on; then the run fails with `PoisonRunError` instead of
   * killing the next worker. A workflow's own `maxCrashes` wins. (Default: 3)
   */
  maxCrashes?: number;
  /** How often an idle worker looks for work from other processes, in ms. (Default: 1_000) */
  pollMs?: number;
  /** Deepest chain of child workflows. (Default: 32) */
  maxDepth?: number;
  /** How long `close()` lets in-flight steps finish before releasing their runs, in ms. (Default: 10_000) */
  drainMs?: number;
  /** SQLite tuning (durability level, busy timeout). */
  sqlite?: SqliteStoreOptions;
  /** Receives errors of background work (claims, heartbeats). (Default: printed to stderr) */
  onError?: (error: Error, context: string) => void;
  /** Step logs: per-step limits and console capture. */
  logs?: LogOptions;
  /**
   * Sees every uncaught exception and unhandled rejection while a worker runs (see
   * docs/uncaught-errors.md). One raised in a step attempt's async context fails that
   * attempt whatever the hook does. (Default: report through `onError`; outside any step,
   * also drain and exit the process with 1)
   */
  onUncaughtError?: UncaughtErrorHook;
  /** TypeScript functions that flows' `action` steps call by name, run by this process's worker. */
  actions?: Record<string, FlowAction>;
  /** Flow execution settings: interpreters, script log limits, the `http` steps' SSRF policy. */
  flows?: FlowOptions;
  /**
   * Deletes finished runs older than this in the background, in bounded chunks: `"30d"`, or
   * options (pass interval, chunk size, runs per pass). (Default: runs are kept)
   */
  retention?: Duration | RetentionOptions;
}

const defaultPayloadLimit = 2 * 1024 * 1024;

/**
 * The engine room of one process: the store, the clock, the journal writer, the workflows
 * this process has code for, the local worker and the event bus. The `Cairn` façade and
 * the engine duties (start, admission, schedules, triggers, children) share this state.
 */
export class Engine {
  readonly store: Store;
  readonly clock: Clock;
  readonly writer: JournalWriter;
  /** Batches the runs' log lines (`ctx.log`, a step's `log` and console) into the store. */
  readonly logWriter: LogWriter;
  readonly options: EngineOptions;
  readonly payloadLimitBytes: number;
  readonly leaseMs: number;
  /** Each workflow name's newest version: what new runs start on. */
  readonly registry = new Map<string, Workflow<unknown, unknown>>();
  /** Every registered version of every workflow: what runs already started resume on. */
  readonly versions = new WorkflowVersions();
  readonly bus: EventBus;
  /** Wakes `result()` waiters of runs that end in other processes. */
  readonly ends: EndWatch;
  /** Deployed flows: registered here as workflows, refreshed from the store. */
  readonly flows: FlowCatalog;
  /** Workflows other processes' workers registered: what this process may start by name. */
  readonly remoteWorkflows: RemoteWorkflows;
  /** Workflows known to be paused; runs of these are never handed to the local worker directly. */
  readonly paused = new Set<string>();
  worker: Worker | undefined;
  /** The background retention passes, when `retention` is set. */
  readonly retention: RetentionSweeper | undefined;
  #databaseClock: DatabaseClock | undefined;
  readonly #stopLockWatch: (() => void) | undefined;
  #closed = false;

  constructor(store: Store, clock: Clock, options: EngineOptions, databaseClock?: DatabaseClock) {
    this.store = store;
    this.remoteWorkflows = new RemoteWorkflows(store);
    this.clock = clock;
    this.options = options;
    this.writer = new JournalWriter(store);
    this.payloadLimitBytes = options.payloadLimitBytes ?? defaultPayloadLimit;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.bus = new EventBus(clock, (error, context) => this.reportError(error, context));
    this.ends = new EndWatch(store, this.bus, (error, context) => this.reportError(error, context));
    this.logWriter = new LogWriter(
      store,
      ({ runId, ...entry }) => this.bus.emit({ type: "log", runId, entry }),
      (error) => this.reportError(error, "storing log lines"),
    );
    this.#databaseClock = databaseClock;
    this.#stopLockWatch = store.onWriteLockWait?.(({ holder, ...wait }) =>
      this.bus.emit({
        type: "store-lock",
        ...wait,
        ...(holder ? { holderPid: holder.pid, holderName: holder.name } : {}),
        at: clock.now(),
      }),
    );
    this.retention =
      options.retention === undefined
        ? undefined
        : new RetentionSweeper(
            {
              store,
              clock,
              emit: (event) => this.bus.emit(event),
              reportError: (error, context) => this.reportError(error, context),
            },
            resolveRetention(options.retention),
          );
    for (const workflow of options.workflows ?? []) this.register(workflow);
    this.flows = new FlowCatalog({
      store,
      now: () => this.clock.now(),
      register: (workflow) => this.register(workflow),
      registered: (name) => this.registry.get(name),
      syncTriggers: () => registerTriggers(this),
      actions: new Map(Object.entries(options.actions ?? {})),
      options: options.flows ?? {},
      onError: (error, context) => this.reportError(error, context),
    });
  }

  /**
   * The composition root: opens the store (applying migrations) and picks the clock. Where
   * the database keeps the time (PostgreSQL), the clock follows it unless `clock` is given.
   */
  static async open(options: EngineOptions): Promise<Engine> {
    // Bad options are refused before the database is touched.
    if (options.retention !== undefined) resolveRetention(options.retention);
    const store: Store =
      options.store ??
      (await openStore(options.db ?? process.env.CAIRN_DB ?? defaultDatabaseUrl, options.sqlite));
    if (options.clock) return new Engine(store, options.clock, options);
    // CAIRN_CLOCK_OFFSET_MS skews this process's clock: the clock-skew tests use it.
    const local = systemClock(Number(process.env.CAIRN_CLOCK_OFFSET_MS ?? 0));
    const databaseClock = store.serverTime
      ? await createDatabaseClock(store as Store & { serverTime(): Promise<number> }, local)
      : undefined;
    return new Engine(store, databaseClock ?? local, options, databaseClock);
  }

  /**
   * Adds a workflow this process can run. A name stands for one definition per version;
   * new runs start on its highest version.
   */
  register(workflow: AnyWorkflow): void {
    if (!isWorkflow(workflow)) {
      throw new TypeError("Cairn: `workflows` must hold values made by defineWorkflow().");
    }
    this.versions.add(workflow);
    this.registry.set(workflow.name, this.versions.latest(workflow.name) as Workflow);
  }

  /** Registers `workflow`, replacing a definition of the same name (a reload in `cairn dev`). */
  replace(workflow: AnyWorkflow): void {
    if (!isWorkflow(workflow)) {
      throw new TypeError("Cairn: `workflows` must hold values made by defineWorkflow().");
    }
    this.versions.add(workflow, true);
    this.registry.set(workflow.name, this.versions.latest(workflow.name) as Workflow);
  }

  /** The registered definition of `workflow`, or the given definition; throws for unknown names. */
  resolve(workflow: unknown): Workflow<unknown, unknown> {
    const name =
      typeof workflow === "string" ? workflow : isWorkflow(workflow) ? workflow.name : undefined;
    if (name === undefined) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        "Start takes a workflow made by defineWorkflow() or its name.",
      );
    }
    // A definition given starts on its own version (an older one kept registered, say).
    const registered = isWorkflow(workflow)
      ? this.versions.get(name, versionOf(workflow))
      : this.registry.get(name);
    if (registered) return registered;
    if (isWorkflow(workflow)) {
      // Starting a workflow this process does not run is fine: another process's worker will.
      return workflow as Workflow<unknown, unknown>;
    }
    const known = [...this.registry.keys()].join(", ") || "none";
    throw new CairnError(
      "WORKFLOW_NOT_FOUND",
      `Unknown workflow "${name}" (registered: ${known}).`,
    );
  }

  /** Wakes the local worker: new work may be due. */
  notify(): void {
    this.worker?.notify();
  }

  reportError(error: Error, context: string): void {
    if (this.options.onError) this.options.onError(error, context);
    else console.error(`cairn: error while ${context}:`, error);
  }

  assertOpen(): void {
    if (this.#closed) throw new CairnError("CLOSED", "This Cairn instance is closed.");
  }

  /** Stops the worker (in-flight steps finish, their runs are handed back) and closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.retention?.stop();
    await this.worker?.stop(this.options.drainMs ?? 10_000);
    await this.writer.idle();
    await this.logWriter.idle();
    await this.ends.close();
    this.#databaseClock?.stop();
    this.#stopLockWatch?.();
    await this.store.close();
  }
}
