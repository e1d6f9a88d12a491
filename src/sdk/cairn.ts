import { EventEmitter } from "node:events";
import { connect } from "../client/index.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { type Duration, toMs } from "../core/duration.ts";
import type { EngineEvent, EngineEventListener } from "../core/engine-event.ts";
import { CairnError, ensureError, RunCancelledError } from "../core/errors.ts";
import { deserialize, deserializeError, serialize, serializeError } from "../core/serializer.ts";
import { isTerminal, type RunId, type RunStatus } from "../core/types.ts";
import { FlowCatalog } from "../engine/flows/flow-catalog.ts";
import type { FlowAction, FlowOptions } from "../engine/flows/flow-services.ts";
import type { NewRun, QueueStats, RunFilter, RunRecord, Store } from "../store/store.ts";
import type { SqliteStoreOptions } from "../store-sqlite/sqlite-store.ts";
import { createDatabaseClock, type DatabaseClock } from "../worker/database-clock.ts";
import { JournalWriter } from "../worker/journal-writer.ts";
import type { ExecutionEnv, ExecutionOutcome } from "../worker/run-execution.ts";
import { Worker, type WorkerOptions } from "../worker/worker.ts";
import { type AnyWorkflow, isWorkflow, type Workflow } from "./define-workflow.ts";
import { runsForEvent } from "./event-triggers.ts";
import { flowControlFor, hasFlowControl } from "./flow-control.ts";
import { defaultDatabaseUrl, openStore } from "./open-store.ts";
import { type ReplayReport, replayRun } from "./replay.ts";
import { type RunInfo, toRunInfo } from "./run-info.ts";
import { firstSlotAfter, planSchedule } from "./scheduler.ts";
import { Schedules } from "./schedules-api.ts";
import { validateInput } from "./validate-input.ts";

export interface CairnOptions {
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
  /** TypeScript functions that flows' `action` steps call by name, run by this process's worker. */
  actions?: Record<string, FlowAction>;
  /** Flow execution settings: interpreters, script log limits, the `http` steps' SSRF policy. */
  flows?: FlowOptions;
}

export interface StartOptions {
  /** The run's id; starting again with the same id returns the existing run (G5). */
  id?: string;
}

/** A started run. */
export interface RunHandle<TOutput = unknown> {
  readonly id: RunId;
  /** The workflow's name; empty for a handle made from a bare id with `cairn.handle(id)`. */
  readonly workflow: string;
  /** False when a run with this id already existed and was returned instead. */
  readonly created: boolean;
  /** Waits for the run to end; returns its output or throws its error. */
  result(): Promise<TOutput>;
  /** The run's current state. */
  info(): Promise<RunInfo<TOutput>>;
}

const defaultPayloadLimit = 2 * 1024 * 1024;

/**
 * The engine: a store, the workflows this process knows, and optionally a worker.
 * @example
 * const cairn = await Cairn.open({ workflows: [processOrder] });
 * await cairn.worker();
 * const run = await cairn.start(processOrder, { id: "o1", total: 10 });
 * console.log(await run.result());
 * await cairn.close();
 */
export class Cairn {
  readonly store: Store;
  readonly clock: Clock;
  readonly writer: JournalWriter;
  readonly #registry = new Map<string, Workflow<unknown, unknown>>();
  readonly #options: CairnOptions;
  readonly #events = new EventEmitter();
  readonly #listeners = new Set<EngineEventListener>();
  readonly #payloadLimit: number;
  #worker: Worker | undefined;
  /** Workflows known to be paused; runs of these are never handed to the local worker directly. */
  readonly #paused = new Set<string>();
  /** Cron schedules over any workflow: create, pause, resume, backfill, preview. */
  readonly schedules: Schedules;
  /** Deployed flows (YAML/JSON DAGs): deploy, and the ones this process runs. */
  readonly flows: FlowCatalog;
  #databaseClock: DatabaseClock | undefined;
  #closed = false;

  private constructor(store: Store, options: CairnOptions) {
    this.store = store;
    this.#options = options;
    this.clock = options.clock ?? systemClock();
    this.writer = new JournalWriter(store);
    this.#payloadLimit = options.payloadLimitBytes ?? defaultPayloadLimit;
    this.#events.setMaxListeners(0);
    this.schedules = new Schedules({
      store,
      now: () => this.clock.now(),
      payloadLimitBytes: this.#payloadLimit,
      resolveName: async (name) => {
        if (this.#registry.has(name)) return name;
        if ((await this.store.listWorkflows()).some((w) => w.name === name)) return name;
        return this.#resolve(name).name; // throws WORKFLOW_NOT_FOUND with the known names
      },
      registered: (name) => this.#registry.get(name),
      notify: () => this.#worker?.notify(),
    });
    for (const workflow of options.workflows ?? []) this.register(workflow);
    this.flows = new FlowCatalog({
      store,
      now: () => this.clock.now(),
      register: (workflow) => this.register(workflow),
      registered: (name) => this.#registry.get(name),
      syncTriggers: () => this.#registerTriggers(),
      actions: new Map(Object.entries(options.actions ?? {})),
      options: options.flows ?? {},
      onError: (error, context) => this.#reportError(error, context),
    });
  }

  /**
   * A client of a remote Cairn server (`cairn dev` / `cairn server`) with the same `start`,
   * `result()`, `getRun`, `sendEvent`, `signal`, `cancel` as the embedded engine, for apps
   * that start workflows but run no workers.
   * @example const cairn = Cairn.connect("http://127.0.0.1:7420", { token });
   */
  static connect = connect;

  /**
   * Opens the store (applying migrations) and registers `workflows`. Where the database
   * keeps the time (PostgreSQL), the engine's clock follows it unless `clock` is given.
   */
  static async open(options: CairnOptions = {}): Promise<Cairn> {
    const store =
      options.store ??
      (await openStore(options.db ?? process.env.CAIRN_DB ?? defaultDatabaseUrl, options.sqlite));
    let clock = options.clock;
    let databaseClock: DatabaseClock | undefined;
    if (!clock) {
      // CAIRN_CLOCK_OFFSET_MS skews this process's clock: the clock-skew tests use it.
      const local = systemClock(Number(process.env.CAIRN_CLOCK_OFFSET_MS ?? 0));
      if (store.serverTime) {
        databaseClock = await createDatabaseClock(
          store as Store & { serverTime(): Promise<number> },
          local,
        );
      }
      clock = databaseClock ?? local;
    }
    const cairn = new Cairn(store, { ...options, clock });
    cairn.#databaseClock = databaseClock;
    await cairn.flows.refresh(); // registers the deployed flows (and their triggers)
    await cairn.#registerTriggers();
    return cairn;
  }

  /** Adds a workflow this process can run; a name can only stand for one definition. */
  register(workflow: AnyWorkflow): void {
    if (!isWorkflow(workflow)) {
      throw new TypeError("Cairn: `workflows` must hold values made by defineWorkflow().");
    }
    const existing = this.#registry.get(workflow.name);
    if (existing && existing !== (workflow as unknown)) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        `Two different workflows are named "${workflow.name}".`,
      );
    }
    this.#registry.set(workflow.name, workflow as unknown as Workflow<unknown, unknown>);
  }

  /** The registered workflows. */
  get workflows(): Workflow<unknown, unknown>[] {
    return [...this.#registry.values()];
  }

  /** Starts a worker in this process (once); it claims and executes runs until `close()`. */
  async worker(options: WorkerOptions = {}): Promise<Worker> {
    this.#assertOpen();
    if (this.#worker) return this.#worker;
    const concurrency = options.concurrency ?? 100;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        `Worker concurrency must be a positive integer, got ${concurrency}.`,
      );
    }
    const env: ExecutionEnv = {
      clock: this.clock,
      emit: (event) => this.#emit(event),
      store: this.store,
      writer: this.writer,
      payloadLimitBytes: this.#payloadLimit,
      startChild: (request) => this.#startChild(request),
    };
    this.#worker = new Worker(
      this.store,
      this.clock,
      env,
      this.#registry,
      {
        concurrency,
        queues: options.queues ?? ["default"],
        leaseMs: this.#options.leaseMs ?? 15_000,
        pollMs: this.#options.pollMs ?? 1_000,
      },
      {
        onStarted: (run) => this.#emitRun(run.id, run.workflow, "running"),
        onSettled: (run, outcome) => this.#onSettled(run, outcome),
        onError: (error, context) => this.#reportError(error, context),
        emit: (event) => this.#emit(event),
        beforeClaim: async () => {
          await this.flows.refreshIfDue();
          await this.#admitPending();
          await this.#fireSchedules();
        },
      },
    );
    this.#worker.start();
    return this.#worker;
  }

  /**
   * Starts a run, or returns the existing one when `options.id` is taken (G5). The input is
   * validated against the workflow's schema first; invalid input creates nothing.
   * @throws CairnError `WORKFLOW_NOT_FOUND`, `INVALID_INPUT`, `PAYLOAD_TOO_LARGE`.
   */
  async start<I, O>(
    workflow: Workflow<I, O> | string,
    input: I,
    options: StartOptions = {},
  ): Promise<RunHandle<O>> {
    this.#assertOpen();
    const id = (options.id ?? crypto.randomUUID()) as RunId;
    if (typeof id !== "string" || id.length === 0 || id.length > 256) {
      throw new CairnError("INVALID_ARGUMENT", "A run id must be a string of 1 to 256 characters.");
    }
    if (typeof workflow === "string" && !this.#registry.has(workflow)) {
      return this.#startWithoutCode<O>(workflow, input, id);
    }
    // A flow's input schema and options come from its latest version, maybe deployed elsewhere.
    if (typeof workflow === "string" && this.flows.has(workflow)) await this.flows.refreshIfDue();
    const definition = this.#resolve(workflow);
    const now = this.clock.now();
    const valid = await validateInput(definition, input);
    const newRun: NewRun = {
      id,
      workflow: definition.name,
      input: serialize(valid, `The input of workflow "${definition.name}"`, this.#payloadLimit),
      createdAt: now,
      deadlineAt: definition.timeoutMs === undefined ? null : now + definition.timeoutMs,
      ...flowControlFor(definition, valid),
    };
    // A local worker with a free slot takes the run in the same write: no claim round trip.
    // Runs under flow control, on other queues or of paused workflows go through the store.
    const worker = this.#worker;
    const leaseMs = this.#options.leaseMs ?? 15_000;
    const direct =
      worker?.hasCapacity() &&
      worker.servesQueue(newRun.queue ?? "default") &&
      !hasFlowControl(definition) &&
      !this.#paused.has(definition.name);
    const claim = direct && worker ? { owner: worker.id, leaseUntil: now + leaseMs } : undefined;
    const { run, created } = await this.store.createRun(newRun, claim);
    if (created) this.#emitRun(run.id, run.workflow, "queued", undefined, "created");
    if (created && claim && worker) worker.adopt({ run, token: run.fencingToken }, []);
    else if (created) this.#worker?.notify();
    return this.#handle<O>(run.id, run.workflow, created);
  }

  /**
   * Starts a workflow this process has no code for, by a name some worker registered: the
   * run waits unadmitted until a worker with the code validates its input and applies its
   * flow control (`#admitPending`).
   */
  async #startWithoutCode<O>(name: string, input: unknown, id: RunId): Promise<RunHandle<O>> {
    await this.flows.refresh(); // a flow deployed by another process since the last look
    if (this.#registry.has(name)) return this.start<unknown, O>(name, input, { id });
    const known = (await this.store.listWorkflows()).some((w) => w.name === name);
    if (!known) {
      const local = [...this.#registry.keys()];
      throw new CairnError(
        "WORKFLOW_NOT_FOUND",
        `Unknown workflow "${name}": no worker has registered it (registered here: ${local.join(", ") || "none"}).`,
      );
    }
    const now = this.clock.now();
    const { run, created } = await this.store.createRun({
      id,
      workflow: name,
      input: serialize(input, `The input of workflow "${name}"`, this.#payloadLimit),
      createdAt: now,
      admitted: false,
    });
    if (created) this.#emitRun(run.id, run.workflow, "queued", undefined, "created");
    return this.#handle<O>(run.id, run.workflow, created);
  }

  /** Admits runs that code-less processes started for this process's workflows. */
  async #admitPending(): Promise<void> {
    const pending = await this.store.pendingAdmission([...this.#registry.keys()], 100);
    for (const run of pending) {
      const definition = this.#registry.get(run.workflow);
      if (!definition) continue;
      const now = this.clock.now();
      try {
        const input = await validateInput(definition, deserialize(run.input));
        const { debounce, ...fields } = flowControlFor(definition, input);
        const deadlineAt = definition.timeoutMs === undefined ? null : now + definition.timeoutMs;
        await this.store.admitRun(
          run.id,
          { fields: { ...fields, deadlineAt }, delayMs: debounce?.periodMs ?? 0 },
          now,
        );
      } catch (error) {
        await this.store.admitRun(run.id, { error: serializeError(ensureError(error)) }, now);
        this.#events.emit(run.id, "failed");
      }
    }
    if (pending.length > 0) this.#worker?.notify();
  }

  /** Workflows this process runs, and those other processes registered (startable by name). */
  async knownWorkflows(): Promise<{ name: string; local: boolean; seenAt: Date | null }[]> {
    const byName = new Map<string, { name: string; local: boolean; seenAt: Date | null }>();
    for (const w of await this.store.listWorkflows()) {
      byName.set(w.name, { name: w.name, local: false, seenAt: new Date(w.seenAt) });
    }
    for (const name of this.#registry.keys()) {
      byName.set(name, { name, local: true, seenAt: byName.get(name)?.seenAt ?? null });
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A handle to an existing run. */
  handle<O = unknown>(runId: string): RunHandle<O> {
    return this.#handle<O>(runId as RunId, "", false);
  }

  /** The run's status, steps with timings, and output or error. @throws `RUN_NOT_FOUND` */
  async getRun<O = unknown>(runId: string): Promise<RunInfo<O>> {
    const run = await this.store.getRun(runId as RunId);
    if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${runId}".`);
    return toRunInfo<O>(run, await this.store.getJournal(run.id));
  }

  /** Runs, newest first (keyset-paginated with `filter.before`). */
  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return this.store.listRuns(filter);
  }

  /**
   * Accepts an event: stored once per id (a repeated id is a no-op) and handed to every
   * run waiting for it whose `match` fits.
   */
  async sendEvent(
    name: string,
    data?: unknown,
    options: { id?: string } = {},
  ): Promise<{ id: string; duplicate: boolean; started: RunId[] }> {
    this.#assertOpen();
    if (typeof name !== "string" || name === "") {
      throw new CairnError("INVALID_ARGUMENT", "An event needs a non-empty name.");
    }
    const id = options.id ?? crypto.randomUUID();
    if (typeof id !== "string" || id.length === 0 || id.length > 256) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        "An event id must be a string of 1 to 256 characters.",
      );
    }
    const event = {
      id,
      name,
      data: serialize(data, `The data of event "${name}"`, this.#payloadLimit),
      createdAt: this.clock.now(),
    };
    const starts = await runsForEvent(
      this.store,
      { ...event, value: data },
      (workflow) => this.#registry.get(workflow),
      this.#payloadLimit,
      (error) => this.#reportError(error, `starting the workflows triggered by event "${name}"`),
    );
    const result = await this.store.sendEvent(event, starts);
    for (const runId of result.started) {
      const workflow = starts.find((s) => s.id === runId)?.workflow ?? "";
      this.#emitRun(runId, workflow, "queued", undefined, "created");
    }
    if (result.woke.length > 0 || result.started.length > 0) this.#worker?.notify();
    return { id, duplicate: result.duplicate, started: result.started };
  }

  /** Sends a signal to one run; signals wait in order until the run asks for them. */
  async signal(runId: string, name: string, payload?: unknown): Promise<void> {
    this.#assertOpen();
    if (typeof name !== "string" || name === "") {
      throw new CairnError("INVALID_ARGUMENT", "A signal needs a non-empty name.");
    }
    const data = serialize(payload ?? null, `The payload of signal "${name}"`, this.#payloadLimit);
    const { woke } = await this.store.sendSignal(runId as RunId, name, data, this.clock.now());
    if (woke) this.#worker?.notify();
  }

  /**
   * Cancels a run and its child runs. A running step sees its `signal` abort; the run ends
   * `cancelled`. Cancelling a finished run changes nothing. @throws `RUN_NOT_FOUND`
   */
  async cancel(runId: string): Promise<void> {
    this.#assertOpen();
    const error = serializeError(new RunCancelledError(runId));
    const cancelled = await this.store.cancelRun(runId as RunId, error, this.clock.now());
    for (const id of cancelled) {
      this.#worker?.abortRun(id, new RunCancelledError(id));
      this.#events.emit(id, "cancelled");
      this.#emitRun(id, (await this.store.getRun(id))?.workflow ?? "", "cancelled");
    }
    if (cancelled.length > 0) this.#worker?.notify();
  }

  /**
   * Retries a failed or cancelled run from its last checkpoint: completed steps keep their
   * recorded outcomes, failed steps run again. @throws `RUN_NOT_FOUND`, `INVALID_STATE`
   */
  async retry(runId: string): Promise<RunHandle> {
    this.#assertOpen();
    const existing = await this.store.getRun(runId as RunId);
    const definition = existing ? this.#registry.get(existing.workflow) : undefined;
    const now = this.clock.now();
    const deadlineAt = definition?.timeoutMs === undefined ? null : now + definition.timeoutMs;
    const run = await this.store.retryRun(runId as RunId, now, deadlineAt);
    this.#emitRun(run.id, run.workflow, "queued", undefined, "retry");
    this.#worker?.notify();
    return this.#handle(run.id, run.workflow, false);
  }

  /**
   * Replays a recorded run against the current code (or `workflow`) without side effects
   * and reports whether the code still makes the calls its journal recorded.
   * @throws `RUN_NOT_FOUND`, `WORKFLOW_NOT_FOUND`
   */
  async replay(runId: string, workflow?: AnyWorkflow): Promise<ReplayReport> {
    const run = await this.store.getRun(runId as RunId);
    if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${runId}".`);
    const definition = workflow
      ? (workflow as Workflow<unknown, unknown>)
      : this.#resolve(run.workflow);
    return replayRun(run, await this.store.getJournal(run.id), definition, this.clock);
  }

  /** Stops claiming runs of a workflow (they wait in the store) until it is resumed. */
  async pauseWorkflow(name: string): Promise<void> {
    const workflow = this.#resolve(name);
    await this.store.setWorkflowPaused(workflow.name, true, this.clock.now());
    this.#paused.add(workflow.name);
  }

  async resumeWorkflow(name: string): Promise<void> {
    const workflow = this.#resolve(name);
    await this.store.setWorkflowPaused(workflow.name, false, this.clock.now());
    this.#paused.delete(workflow.name);
    this.#worker?.notify();
  }

  async pausedWorkflows(): Promise<string[]> {
    return this.store.pausedWorkflows();
  }

  /** Accepted events, newest first. */
  async listEvents(
    filter: { name?: string; limit?: number; before?: { createdAt: number; id: string } } = {},
  ) {
    return (await this.store.listEvents(filter)).map((e) => ({
      id: e.id,
      name: e.name,
      data: deserialize(e.data),
      createdAt: new Date(e.createdAt),
    }));
  }

  /** Fires the due schedules of this process's workflows (the worker's scheduler duty). */
  async #fireSchedules(): Promise<void> {
    const now = this.clock.now();
    const { created } = await this.store.schedules.fireDue(
      now,
      100,
      (schedule, hasActiveRun) =>
        planSchedule(schedule, hasActiveRun, now, this.#registry.get(schedule.workflow)),
      [...this.#registry.keys()],
    );
    if (created.length > 0) this.#worker?.notify();
  }

  /**
   * Records the event triggers and cron schedules that the registered workflows declare,
   * so any process accepting an event starts them and any scheduler fires them.
   */
  async #registerTriggers(): Promise<void> {
    const now = this.clock.now();
    await this.store.registerWorkflows([...this.#registry.keys()], now);
    const existing = await this.store.schedules.list();
    for (const workflow of this.#registry.values()) {
      const triggers = workflow.options.triggers ?? [];
      const events = triggers.flatMap((t) =>
        "event" in t ? [{ event: t.event, condition: t.if ?? "" }] : [],
      );
      await this.store.setEventTriggers(workflow.name, events, now);
      const ids = new Set<string>();
      for (const t of triggers) {
        if (!("cron" in t)) continue;
        const tz = t.tz ?? "UTC";
        const id = `${workflow.name}@${t.cron}@${tz}`;
        ids.add(id);
        await this.store.schedules.upsert(
          {
            id,
            workflow: workflow.name,
            cron: t.cron,
            tz,
            input: serialize(t.input, `The input of schedule "${id}"`, this.#payloadLimit),
            overlap: t.overlap ?? "skip",
            catchup: t.catchup ?? "latest",
            nextAt: firstSlotAfter({ cron: t.cron, tz }, now),
            source: "trigger",
          },
          now,
        );
      }
      for (const stale of existing) {
        if (stale.source === "trigger" && stale.workflow === workflow.name && !ids.has(stale.id)) {
          await this.store.schedules.delete(stale.id);
        }
      }
    }
    for (const name of await this.store.pausedWorkflows()) this.#paused.add(name);
  }

  /** Due, running and waiting run counts, and the age of the oldest due run. */
  async queueStats(): Promise<QueueStats> {
    return this.store.queueStats(this.clock.now());
  }

  /**
   * Retention: deletes finished runs (completed, failed, cancelled) that finished more than
   * `olderThan` ago, with their journals. Returns how many runs were deleted.
   */
  async purgeRuns(olderThan: Duration): Promise<number> {
    this.#assertOpen();
    return this.store.deleteFinishedRuns(this.clock.now() - toMs(olderThan, "olderThan"));
  }

  /** Stops the worker (in-flight steps finish, their runs are handed back) and closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#worker?.stop(this.#options.drainMs ?? 10_000);
    await this.writer.idle();
    this.#databaseClock?.stop();
    await this.store.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new CairnError("CLOSED", "This Cairn instance is closed.");
  }

  #resolve(workflow: unknown): Workflow<unknown, unknown> {
    const name =
      typeof workflow === "string" ? workflow : isWorkflow(workflow) ? workflow.name : undefined;
    if (name === undefined) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        "Start takes a workflow made by defineWorkflow() or its name.",
      );
    }
    const registered = this.#registry.get(name);
    if (registered) return registered;
    if (isWorkflow(workflow)) {
      // Starting a workflow this process does not run is fine: another process's worker will.
      return workflow;
    }
    const known = [...this.#registry.keys()].join(", ") || "none";
    throw new CairnError(
      "WORKFLOW_NOT_FOUND",
      `Unknown workflow "${name}" (registered: ${known}).`,
    );
  }

  async #startChild(request: Parameters<ExecutionEnv["startChild"]>[0]): Promise<void> {
    const { parent, position, childId, workflow, input } = request;
    const definition = this.#resolve(workflow);
    const depth = parent.run.depth + 1;
    const maxDepth = this.#options.maxDepth ?? 32;
    if (depth > maxDepth) {
      throw new CairnError(
        "MAX_DEPTH_EXCEEDED",
        `Child workflow depth ${depth} is over the limit of ${maxDepth}.`,
      );
    }
    const valid = await validateInput(definition, input);
    const now = this.clock.now();
    const { created } = await this.store.createRun({
      id: childId,
      workflow: definition.name,
      input: serialize(
        valid,
        `The input of child workflow "${definition.name}"`,
        this.#payloadLimit,
      ),
      parentId: parent.run.id,
      parentPosition: position,
      depth,
      createdAt: now,
      deadlineAt: definition.timeoutMs === undefined ? null : now + definition.timeoutMs,
    });
    if (created) this.#worker?.notify();
  }

  #onSettled(run: { id: RunId; workflow: string }, outcome: ExecutionOutcome): void {
    switch (outcome.type) {
      case "completed":
      case "failed":
        this.#events.emit(run.id, outcome.type);
        this.#emitRun(
          run.id,
          run.workflow,
          outcome.type,
          outcome.type === "failed" ? outcome.error : undefined,
        );
        return;
      case "suspended":
        this.#emitRun(run.id, run.workflow, outcome.status);
        return;
      case "released":
        this.#emitRun(run.id, run.workflow, "queued", undefined, "released");
        return;
      case "aborted":
        return; // cancelled (reported by cancel) or lost to another worker (it reports)
    }
  }

  /**
   * Listens to what the engine does in this process: runs changing status, steps starting
   * and ending, claims. Returns a function that stops listening.
   * @example const stop = cairn.subscribe((e) => e.type === "step" && console.log(e.key, e.status));
   */
  subscribe(listener: EngineEventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #emit(event: EngineEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#reportError(ensureError(error), "notifying an engine event listener");
      }
    }
  }

  #emitRun(
    runId: RunId,
    workflow: string,
    status: RunStatus,
    error?: Error,
    reason?: "created" | "retry" | "released",
  ): void {
    if (this.#listeners.size === 0) return;
    this.#emit({
      type: "run",
      runId,
      workflow,
      status,
      at: this.clock.now(),
      ...(error ? { error: { name: error.name, message: error.message } } : {}),
      ...(reason ? { reason } : {}),
    });
  }

  #reportError(error: Error, context: string): void {
    if (this.#options.onError) this.#options.onError(error, context);
    else console.error(`cairn: error while ${context}:`, error);
  }

  #handle<O>(id: RunId, workflow: string, created: boolean): RunHandle<O> {
    return {
      id,
      workflow,
      created,
      result: () => this.#result<O>(id),
      info: () => this.getRun<O>(id),
    };
  }

  /** Waits for a local finish notice, polling the store for runs that finish elsewhere. */
  async #result<O>(id: RunId): Promise<O> {
    let pollMs = 50;
    for (;;) {
      const run = await this.store.getRun(id);
      if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${id}".`);
      if (isTerminal(run.status)) return outcomeOf<O>(run);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#events.off(id, done);
          resolve();
        };
        const timer = setTimeout(done, pollMs);
        this.#events.on(id, done);
      });
      pollMs = Math.min(pollMs * 2, 1_000);
    }
  }
}

function outcomeOf<O>(run: RunRecord): O {
  const status: RunStatus = run.status;
  if (status === "completed") return deserialize<O>(run.output);
  if (status === "cancelled") throw new RunCancelledError(run.id);
  // The run's own error, so `catch (e)` sees what the workflow threw.
  throw deserializeError(run.error ?? '{"name":"Error","message":"unknown error"}');
}
