import { connect } from "../client/index.ts";
import type { Clock } from "../core/clock.ts";
import { type Duration, toMs } from "../core/duration.ts";
import type { EngineEventListener } from "../core/engine-event.ts";
import { CairnError, RunCancelledError } from "../core/errors.ts";
import { checkLookupId, checkName } from "../core/names.ts";
import { observed } from "../core/observed.ts";
import type { RunHandle, RunInfo, StartOptions } from "../core/run-info.ts";
import { deserialize, serialize, serializeError } from "../core/serializer.ts";
import { timeOrderedId } from "../core/time-ordered-id.ts";
import type { RunId } from "../core/types.ts";
import type { AnyWorkflow, Workflow } from "../core/workflow.ts";
import { userWorkflowNames } from "../engine/built-in-workflows.ts";
import { type BulkRequest, type BulkResult, bulkRuns } from "../engine/bulk-runs.ts";
import { checkKnownOptions } from "../engine/check-known-options.ts";
import { checkRunFilter } from "../engine/check-run-filter.ts";
import { checkTags } from "../engine/check-tags.ts";
import type { EndWatch } from "../engine/end-watch.ts";
import { Engine, type EngineOptions } from "../engine/engine.ts";
import { runsForEvent } from "../engine/event-triggers.ts";
import type { FlowCatalog } from "../engine/flows/flow-catalog.ts";
import { checkIdempotency, type StartIdempotency } from "../engine/idempotency.ts";
import { deadlineFor } from "../engine/new-run.ts";
import { parseRunWheres } from "../engine/parse-run-where.ts";
import { type PurgeLimits, purgeFinishedRuns } from "../engine/purge-runs.ts";
import { registerTriggers } from "../engine/register-triggers.ts";
import { type ReplayReport, replayRun } from "../engine/replay.ts";
import { type ReplayAllOptions, type ReplayAllReport, replayAll } from "../engine/replay-all.ts";
import { type RerunOptions, rerunRun } from "../engine/rerun.ts";
import { type RunEnd, runOutcome, runResult } from "../engine/run-result.ts";
import { Schedules } from "../engine/schedules-api.ts";
import { type StartedRun, startRun } from "../engine/start-run.ts";
import { startWorker } from "../engine/start-worker.ts";
import { readRunInfo, toRunInfo } from "../engine/to-run-info.ts";
import { WorkflowVersions } from "../engine/workflow-versions.ts";
import type { QueueStats, RunFilter, RunRecord, RunSearch, Store } from "../store/store.ts";
import type { JournalWriter } from "../worker/journal-writer.ts";
import type { LogWriter } from "../worker/log-writer.ts";
import type { Worker, WorkerOptions } from "../worker/worker.ts";

export type { RunHandle, StartOptions } from "../core/run-info.ts";
export type CairnOptions = EngineOptions;

/**
 * The engine: a store, the workflows this process knows, and optionally a worker. A thin
 * façade over the engine room (`src/engine/`), which does the work.
 * @example
 * const cairn = await Cairn.open({ workflows: [processOrder] });
 * await cairn.worker();
 * const run = await cairn.start(processOrder, { id: "o1", total: 10 });
 * console.log(await run.result());
 * await cairn.close();
 */
export class Cairn {
  readonly #engine: Engine;
  /** Cron schedules over any workflow: create, pause, resume, backfill, preview. */
  readonly schedules: Schedules;
  /** Deployed flows (YAML/JSON DAGs): deploy, and the ones this process runs. */
  readonly flows: FlowCatalog;

  private constructor(engine: Engine) {
    this.#engine = engine;
    this.schedules = new Schedules({
      store: engine.store,
      now: () => engine.clock.now(),
      payloadLimitBytes: engine.payloadLimitBytes,
      resolveName: async (name) => {
        if (engine.registry.has(name)) return name;
        if ((await engine.store.listWorkflows()).some((w) => w.name === name)) return name;
        return engine.resolve(name).name; // throws WORKFLOW_NOT_FOUND with the known names
      },
      registered: (name) => engine.registry.get(name),
      notify: () => engine.notify(),
    });
    this.flows = engine.flows;
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
    const engine = await Engine.open(options);
    await engine.flows.refresh(); // registers the deployed flows (and their triggers)
    await registerTriggers(engine);
    engine.retention?.start();
    return new Cairn(engine);
  }

  get store(): Store {
    return this.#engine.store;
  }

  get clock(): Clock {
    return this.#engine.clock;
  }

  /** @internal Announcements of runs that end in other processes, for Cairn's own server. */
  get ends(): EndWatch {
    return this.#engine.ends;
  }

  /** @internal The end of run `id`'s chain (serialized), or where it stands at `until`. */
  runEnd(id: RunId, until: number, signal?: AbortSignal): Promise<RunEnd> {
    return runOutcome(this.#engine, id, { until, signal });
  }

  /** @internal The journal writer, shared with Cairn's own server; not for applications. */
  get writer(): JournalWriter {
    return this.#engine.writer;
  }

  /**
   * @internal Batches the runs' log lines into the store; `idle()` waits until they are
   * written. For Cairn's own server and tests, not for applications.
   */
  get logWriter(): LogWriter {
    return this.#engine.logWriter;
  }

  /** Adds a workflow this process can run; a name can only stand for one definition. */
  register(workflow: AnyWorkflow): void {
    this.#engine.register(workflow);
  }

  /**
   * Replaces the definitions of registered workflows and adds new ones, for the runs that
   * start or resume from now on (`cairn dev` calls it when a workflow file changes);
   * executions in flight keep the code they run. Records the new triggers and schedules.
   */
  async reload(workflows: readonly AnyWorkflow[]): Promise<void> {
    this.#engine.assertOpen();
    for (const workflow of workflows) this.#engine.replace(workflow);
    await registerTriggers(this.#engine);
    this.#engine.notify(); // runs of a version only this code has may be waiting for it
  }

  /** The registered workflows. */
  get workflows(): Workflow<unknown, unknown>[] {
    return [...this.#engine.registry.values()];
  }

  /** Starts a worker in this process (once); it claims and executes runs until `close()`. */
  async worker(options: WorkerOptions = {}): Promise<Worker> {
    return startWorker(this.#engine, options);
  }

  /**
   * Starts a run, or returns the existing one when `options.id` is taken (G5): then
   * `created` is false, and `inputMatches` is false if that run had a different input (this
   * start's input is not used). The input is validated against the workflow's schema first;
   * invalid input creates nothing. With `idempotency` (or the workflow's), a start whose key
   * a run of the workflow took less than `ttl` ago returns that run, `created: false`.
   * @throws CairnError `WORKFLOW_NOT_FOUND`, `INVALID_INPUT`, `PAYLOAD_TOO_LARGE`;
   * `ConfigError` for an unknown or malformed option.
   */
  async start<I, O>(
    workflow: Workflow<I, O> | string,
    input: I,
    options: StartOptions<I> = {},
  ): Promise<RunHandle<O>> {
    const run = await this.#start(workflow, input, options);
    return this.#handle<O>(run.id, run.workflow, run.created, run.inputMatches);
  }

  /**
   * @internal `start`, and the run as it stands: a new run as its insert wrote it (no
   * steps yet), an existing one read from the store. Cairn's server answers a start with it
   * without reading the new run back (two more queries per HTTP start).
   */
  async startAndDescribe<I, O>(
    workflow: Workflow<I, O> | string,
    input: I,
    options: StartOptions<I> = {},
  ): Promise<{ handle: RunHandle<O>; info: RunInfo<O> }> {
    const run = await this.#start(workflow, input, options);
    const handle = this.#handle<O>(run.id, run.workflow, run.created, run.inputMatches);
    const info = run.record ? toRunInfo<O>(run.record, []) : await this.getRun<O>(run.id);
    return { handle, info };
  }

  async #start<I, O>(
    workflow: Workflow<I, O> | string,
    input: I,
    options: StartOptions<I>,
  ): Promise<StartedRun> {
    this.#engine.assertOpen();
    checkKnownOptions(options, "start", "cairn.start");
    checkIdempotency(options.idempotency as never, "cairn.start");
    const id = checkName("run id", options.id ?? timeOrderedId()) as RunId;
    if (typeof workflow === "string") checkName("workflow name", workflow);
    return startRun(this.#engine, workflow as Workflow<unknown, unknown> | string, input, id, {
      ...(options.tags === undefined ? {} : { tags: checkTags(options.tags) }),
      ...(options.idempotency ? { idempotency: options.idempotency as StartIdempotency } : {}),
    });
  }

  /** Workflows this process runs, and those other processes registered (startable by name). */
  async knownWorkflows(): Promise<{ name: string; local: boolean; seenAt: Date | null }[]> {
    const byName = new Map<string, { name: string; local: boolean; seenAt: Date | null }>();
    for (const w of await this.store.listWorkflows()) {
      byName.set(w.name, { name: w.name, local: false, seenAt: new Date(w.seenAt) });
    }
    for (const name of userWorkflowNames(this.#engine.registry.keys())) {
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
    return readRunInfo<O>(this.store, runId);
  }

  /** Runs, newest first (keyset-paginated with `filter.before`). */
  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return this.store.listRuns(checkRunFilter(filter));
  }

  /**
   * Runs whose input or output holds a value at a JSON path, newest first, with the other
   * filters of `listRuns`. Paths are not indexed: each call examines at most `scanLimit`
   * runs (default 10,000) picked by the indexed filters; when it stopped there, `scannedTo`
   * is the cursor to go on from (`before`), so a page may be short and still not the last.
   * @example await cairn.searchRuns({ where: ["input.customer.id:c-17"], workflow: "charge" })
   * @throws CairnError `INVALID_ARGUMENT` for a malformed condition, naming it.
   */
  async searchRuns(
    filter: Omit<RunFilter, "where"> & { where: readonly string[] },
  ): Promise<RunSearch> {
    const { where, ...rest } = filter;
    if (rest.updatedAfter !== undefined) {
      throw new CairnError("INVALID_ARGUMENT", "A where search lists by creation, not by update.");
    }
    const conditions = parseRunWheres(where);
    return this.store.searchRuns({ ...checkRunFilter(rest), where: conditions });
  }

  /**
   * Accepts an event: stored once per id (a repeated id is a no-op) and handed to every
   * run waiting for it whose `match` fits.
   */
  async sendEvent(
    name: string,
    data?: unknown,
    options: { id?: string } = {},
  ): Promise<{ id: string; duplicate: boolean; started: RunId[]; woke: RunId[] }> {
    const engine = this.#engine;
    engine.assertOpen();
    checkName("event name", name);
    const id = checkName("event id", options.id ?? timeOrderedId());
    const event = {
      id,
      name,
      data: serialize(data, `The data of event "${name}"`, engine.payloadLimitBytes),
      createdAt: engine.clock.now(),
    };
    const starts = await runsForEvent(
      engine.store,
      { ...event, value: data },
      (workflow) => engine.registry.get(workflow),
      engine.payloadLimitBytes,
      (error) => engine.reportError(error, `starting the workflows triggered by event "${name}"`),
    );
    const result = await engine.store.sendEvent(event, starts);
    if (!result.duplicate) await engine.store.eventRuns.record(id, result.started, result.woke);
    for (const runId of result.started) {
      const workflow = starts.find((s) => s.id === runId)?.workflow ?? "";
      engine.bus.emitRun(runId, workflow, "queued", undefined, "created");
    }
    if (result.woke.length > 0 || result.started.length > 0) engine.notify();
    return { id, duplicate: result.duplicate, started: result.started, woke: result.woke };
  }

  /** Sends a signal to one run; signals wait in order until the run asks for them. */
  async signal(runId: string, name: string, payload?: unknown): Promise<void> {
    const engine = this.#engine;
    engine.assertOpen();
    checkLookupId("run id", runId);
    checkName("signal name", name);
    const limit = engine.payloadLimitBytes;
    const data = serialize(payload ?? null, `The payload of signal "${name}"`, limit);
    const { woke } = await this.store.sendSignal(runId as RunId, name, data, this.clock.now());
    if (woke) engine.notify();
  }

  /**
   * Cancels a run and its child runs. A running step sees its `signal` abort; the run ends
   * `cancelled`. Cancelling a finished run changes nothing. @throws `RUN_NOT_FOUND`
   */
  async cancel(runId: string): Promise<void> {
    const engine = this.#engine;
    engine.assertOpen();
    checkLookupId("run id", runId);
    const error = serializeError(new RunCancelledError(runId));
    const cancelled = await this.store.cancelRun(runId as RunId, error, this.clock.now());
    for (const id of cancelled) {
      engine.worker?.abortRun(id, new RunCancelledError(id));
      engine.bus.finished(id);
      engine.bus.emitRun(id, (await this.store.getRun(id))?.workflow ?? "", "cancelled");
    }
    if (cancelled.length > 0) engine.notify();
  }

  /**
   * Retries a failed or cancelled run from its last checkpoint: completed steps keep their
   * recorded outcomes, failed steps run again. @throws `RUN_NOT_FOUND`, `INVALID_STATE`
   */
  async retry(runId: string): Promise<RunHandle> {
    const engine = this.#engine;
    engine.assertOpen();
    checkLookupId("run id", runId);
    const existing = await this.store.getRun(runId as RunId);
    const definition = existing ? engine.registry.get(existing.workflow) : undefined;
    const now = this.clock.now();
    const run = await this.store.retryRun(runId as RunId, now, deadlineFor(definition, now));
    engine.bus.emitRun(run.id, run.workflow, "queued", undefined, "retry");
    engine.notify();
    return this.#handle(run.id, run.workflow, false);
  }

  /** Cancels or retries the runs a filter (or a list of ids) matches; see `bulkRuns`. */
  async bulk(request: BulkRequest): Promise<BulkResult> {
    this.#engine.assertOpen();
    return bulkRuns(
      {
        listRuns: (filter) => this.store.listRuns(filter),
        getRun: (id) => this.store.getRun(id),
        cancel: (id) => this.cancel(id),
        retry: (id) => this.retry(id),
      },
      request,
    );
  }

  /**
   * A new run of the same workflow that reuses `runId`'s journal before step `fromStep` (by
   * journal position) and executes from that step on, with the original or a new input.
   * The new run is tagged `rerunOf` (and `rerunFromStep`). See `planRerun` for the semantics.
   * @throws `RUN_NOT_FOUND`, `INVALID_ARGUMENT`, `INVALID_INPUT`
   */
  async rerun(runId: string, options: RerunOptions): Promise<RunHandle> {
    const run = await rerunRun(this.#engine, runId, options);
    return this.#handle(run.id, run.workflow, true);
  }

  /**
   * Replays a recorded run against the current code (or `workflow`) without side effects
   * and reports whether the code still makes the calls its journal recorded.
   * @throws `RUN_NOT_FOUND`, `WORKFLOW_NOT_FOUND`
   */
  async replay(runId: string, workflow?: AnyWorkflow): Promise<ReplayReport> {
    const run = await this.store.getRun(runId as RunId);
    if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${runId}".`);
    const definition = workflow ? (workflow as Workflow<unknown, unknown>) : this.#codeFor(run);
    return replayRun(run, await this.store.getJournal(run.id), definition, this.clock);
  }

  /**
   * The deploy gate: replays every unfinished run (and, with `finished`, the newest finished
   * runs of each workflow) against `workflows` — the code about to be deployed, every
   * version it keeps — without executing a step or writing anything, and lists the runs it
   * would not resume as recorded: a divergence, or no code for the run's workflow or
   * version. Deployed flows replay against this process's flow definitions.
   * @example
   * const { diverged } = await cairn.replayAll([processOrder, processOrderV1]);
   * for (const d of diverged) console.log(d.runId, d.message);
   * @throws `WORKFLOW_NOT_FOUND` when `options.workflow` is in neither `workflows` nor here.
   */
  async replayAll(
    workflows: readonly AnyWorkflow[],
    options: ReplayAllOptions = {},
  ): Promise<ReplayAllReport> {
    const engine = this.#engine;
    engine.assertOpen();
    const code = new WorkflowVersions();
    for (const workflow of workflows) code.add(workflow);
    const only = options.workflow;
    if (only !== undefined) {
      checkName("workflow name", only);
      if (!code.has(only) && !engine.registry.has(only)) {
        const known = code.names().join(", ") || "none";
        throw new CairnError(
          "WORKFLOW_NOT_FOUND",
          `Unknown workflow "${only}": the code given has ${known}.`,
        );
      }
    }
    // Flows and the engine's own workflows are no one's entry code: this process has them.
    const ownCode = (name: string) =>
      engine.flows.has(name) || userWorkflowNames([name]).length === 0;
    return replayAll(
      engine.store,
      engine.clock,
      code.names(),
      (run) =>
        !code.has(run.workflow) && ownCode(run.workflow)
          ? engine.versions.codeFor(run)
          : code.codeFor(run),
      options,
    );
  }

  /** Stops claiming runs of a workflow (they wait in the store) until it is resumed. */
  async pauseWorkflow(name: string): Promise<void> {
    const workflow = this.#engine.resolve(name);
    await this.store.setWorkflowPaused(workflow.name, true, this.clock.now());
    this.#engine.paused.add(workflow.name);
  }

  async resumeWorkflow(name: string): Promise<void> {
    const workflow = this.#engine.resolve(name);
    await this.store.setWorkflowPaused(workflow.name, false, this.clock.now());
    this.#engine.paused.delete(workflow.name);
    this.#engine.notify();
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

  /** Due, running and waiting run counts, and the age of the oldest due run. */
  async queueStats(): Promise<QueueStats> {
    return this.store.queueStats(this.clock.now());
  }

  /**
   * Retention: deletes finished runs (completed, failed, cancelled) that finished more than
   * `olderThan` ago, with their journals, oldest first, in chunks of short transactions with
   * a rest between them (live runs keep going meanwhile). Returns how many runs were deleted.
   * `retention` in {@link CairnOptions} does the same in the background.
   * @example const deleted = await cairn.purgeRuns("30d");
   */
  async purgeRuns(olderThan: Duration, limits: PurgeLimits = {}): Promise<number> {
    this.#engine.assertOpen();
    const engine = this.#engine;
    const before = engine.clock.now() - toMs(olderThan, "olderThan");
    return purgeFinishedRuns(engine.store, before, limits, (runs, done, more) =>
      engine.bus.emit({ type: "purge", runs, before, done, more, at: engine.clock.now() }),
    );
  }

  /** Stops the worker (in-flight steps finish, their runs are handed back) and closes the store. */
  async close(): Promise<void> {
    await this.#engine.close();
  }

  /**
   * Listens to what the engine does in this process: runs changing status, steps starting
   * and ending, claims. Returns a function that stops listening.
   * @example const stop = cairn.subscribe((e) => e.type === "step" && console.log(e.key, e.status));
   */
  subscribe(listener: EngineEventListener): () => void {
    return this.#engine.bus.subscribe(listener);
  }

  /** The registered code of a run's workflow at the run's version. */
  #codeFor(run: RunRecord): Workflow<unknown, unknown> {
    const code = this.#engine.versions.codeFor(run);
    if (!("missing" in code)) return code;
    throw new CairnError("WORKFLOW_NOT_FOUND", `Run "${run.id}": ${code.missing}.`);
  }

  #handle<O>(id: RunId, workflow: string, created: boolean, inputMatches = true): RunHandle<O> {
    return {
      id,
      workflow,
      created,
      inputMatches,
      // The outcome goes to whoever awaits it, even if it settles before they do.
      result: () => observed(runResult<O>(this.#engine, id)),
      info: () => this.getRun<O>(id),
    };
  }
}
