import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { trace } from "@opentelemetry/api";
import type { Clock } from "../core/clock.ts";
import type { EngineEvent } from "../core/engine-event.ts";
import { ensureError, LeaseLostError, RunCancelledError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import type { ClaimedRun, JournalStore, NoticedRun, WakeReason } from "../store/journal-store.ts";
import type { JournalEntry, RunRecord } from "../store/run-records.ts";
import type { RunStore } from "../store/run-store.ts";
import type { UiStore } from "../store/ui-store.ts";
import { claimedJournals } from "./claimed-journals.ts";
import { CrashedRuns, releaseUnrun } from "./crashed-runs.ts";
import type { ExecutionEnv, ExecutionOutcome } from "./execution-env.ts";
import { type LeaseMoment, LeaseWatch } from "./lease-watch.ts";
import { type ClaimPass, LoopWake } from "./loop-wake.ts";
import { poisonVerdict } from "./poison-run.ts";
import { RunExecution } from "./run-execution.ts";
import { trapUncaughtErrors, type UnattributedErrorHandler } from "./uncaught-error-trap.ts";
import { beatWorkerRow } from "./worker-row.ts";

const tracer = trace.getTracer("cairn");

export interface WorkerOptions {
  /** Runs executing at once in this worker; waiting runs hold no slot. (Default: 100) */
  concurrency?: number;
  /** Queues this worker takes runs from, like Windmill's worker tags. (Default: ["default"]) */
  queues?: string[];
}

/** Every version of every workflow the worker runs (the engine's `WorkflowVersions`). */
export interface WorkflowCode {
  /** `name@version` of each definition: claims are limited to these. */
  claimKeys(): string[];
  get(name: string, version: number): Workflow<unknown, unknown> | undefined;
}

export interface WorkerConfig {
  concurrency: number;
  queues: readonly string[];
  /** Lease length in ms; renewed by heartbeats every third of it. */
  leaseMs: number;
  /** Fallback poll interval in ms, for work that arrives from other processes. */
  pollMs: number;
  /** Workers dying in a row without progress before a run is quarantined (per workflow too). */
  maxCrashes: number;
}

export interface WorkerHooks {
  onStarted(run: RunRecord): void;
  onSettled(run: RunRecord, outcome: ExecutionOutcome): void;
  onError(error: Error, context: string): void;
  emit(event: EngineEvent): void;
  /** An uncaught error no step's async context claims, while this worker runs. */
  onUnattributedError?: UnattributedErrorHandler;
  /** Duties before a claim (admissions; on a full pass, due schedules too). */
  beforeClaim?(pass: ClaimPass): Promise<void>;
}

/**
 * What the claim loop needs of the store: claims, leases, wake-ups, the claimed runs'
 * rows and journals, and its own heartbeat row (journal writes go through the writer).
 */
export type WorkerStore = Omit<JournalStore, "commit" | "transactionalStep"> &
  Pick<RunStore, "getRun" | "getJournal" | "getJournals"> &
  Pick<UiStore, "workers">;

/**
 * Claims due runs and executes them, up to `concurrency` at once.
 *
 * States: idle (waiting for a wake-up) → claiming → idle …; stopping → drained.
 * Wake-ups come from this process (a run started or woken here), from a timer set to the
 * earliest `availableAt` in the store (sleeps, timeouts, expired leases) and from a poll
 * that catches work other processes created. Leases of active runs are renewed in one
 * batch every third of the lease; a run whose lease is lost is aborted at once.
 */
export class Worker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  readonly #store: WorkerStore;
  readonly #clock: Clock;
  readonly #env: ExecutionEnv;
  readonly #registry: ReadonlyMap<string, Workflow<unknown, unknown>>;
  readonly #code: WorkflowCode | undefined;
  readonly #config: WorkerConfig;
  readonly #hooks: WorkerHooks;
  readonly #active = new Map<RunId, RunExecution>();
  /**
   * Runs executing here that were taken over from a dead or stalled worker. While any is,
   * this worker takes no suspect (a run some worker already died running): a poison run
   * then dies beside fresh runs only, never beside the runs it already took down once.
   */
  readonly #takeovers = new Set<RunId>();
  /** Runs claimed whose journal is still loading: they hold a slot too. */
  #loading = 0;
  #running = false;
  readonly #wakes = new LoopWake();
  #loop: Promise<void> | undefined;
  #lastRenewal = 0;
  /** The lease renewal in flight, if any. */
  #renewal: Promise<void> | undefined;
  /** When each execution's lease was last confirmed: past a whole lease, we self-fence. */
  readonly #leases: LeaseWatch<RunExecution>;
  #cancelHeartbeat: (() => void) | undefined;
  #startedAt = 0;
  #unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined;
  /** The store's wake-ups reach this worker (see `#execute`'s end). */
  #hearsWakeUps = false;
  #untrap: (() => void) | undefined;
  /** Runs in flight when an uncaught error outside any step hit the process. */
  readonly #crashed: CrashedRuns;

  constructor(
    store: WorkerStore,
    clock: Clock,
    env: ExecutionEnv,
    registry: ReadonlyMap<string, Workflow<unknown, unknown>>,
    config: WorkerConfig,
    hooks: WorkerHooks,
    code?: WorkflowCode,
  ) {
    this.#code = code;
    this.#store = store;
    this.#clock = clock;
    this.#env = env;
    this.#registry = registry;
    this.#config = config;
    this.#hooks = hooks;
    this.#crashed = new CrashedRuns({ store, owner: this.id, clock, hooks });
    this.#leases = new LeaseWatch(clock, config.leaseMs);
  }

  get activeCount(): number {
    return this.#active.size + this.#loading;
  }

  /** The runs executing here now. */
  get runIds(): RunId[] {
    return [...this.#active.keys()];
  }

  /** True while the run executes here: its end, if it ends here, reaches `onSettled`. */
  isExecuting(runId: RunId): boolean {
    return this.#active.has(runId);
  }

  get concurrency(): number {
    return this.#config.concurrency;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#untrap = trapUncaughtErrors((error, source) => {
      this.#crashed.mark(this.#active.values());
      this.#hooks.onUnattributedError?.(error, source);
    });
    this.#lastRenewal = this.#clock.now();
    this.#startedAt = this.#clock.now();
    this.#scheduleHeartbeat();
    this.#beat();
    // Other processes' new work wakes us at once where the store can tell (LISTEN/NOTIFY).
    this.#unsubscribe = this.#store
      .subscribe?.((reason, run) => this.notify(reason, run))
      .then((unsubscribe) => {
        this.#hearsWakeUps = true;
        return unsubscribe;
      })
      .catch((error) => {
        this.#hooks.onError(ensureError(error), "subscribing to wake-ups; polling instead");
        return undefined;
      });
    this.#loop = this.#run();
  }

  /** How many more runs this worker can take now (a start or an admission may hand it some). */
  freeSlots(): number {
    return this.#running ? Math.max(0, this.#config.concurrency - this.activeCount) : 0;
  }

  /** Executes runs this worker holds (claimed, or taken by a start or an admission). */
  adopt(claimed: readonly ClaimedRun[], claimedAt: LeaseMoment): void {
    const journals = claimedJournals(this.#store, claimed);
    for (const [i, run] of claimed.entries()) this.#execute(run, journals[i], claimedAt);
  }

  /** Something may be claimable now: wake the loop. */
  notify(reason?: WakeReason, run?: NoticedRun): void {
    this.#wakes.notify(reason, run);
  }

  /**
   * Aborts a run executing here (it was cancelled or lost): only the execution under `token`,
   * when given, since this worker may have claimed the run again meanwhile.
   */
  abortRun(runId: RunId, reason: Error, token?: number): void {
    const execution = this.#active.get(runId);
    if (token !== undefined && execution?.token !== token) return;
    execution?.abort(reason);
  }

  /**
   * Stops claiming; lets in-flight steps finish and hands their runs back, releasing
   * whatever is still running after `drainMs`.
   */
  async stop(drainMs: number): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.notify();
    // Drain now, not after the last claim (it may wait on the database): a step that
    // finishes meanwhile must not let its run start the next one.
    for (const execution of this.#active.values()) this.#crashed.drain(execution);
    await this.#loop;
    for (const execution of this.#active.values()) this.#crashed.drain(execution); // claimed by that last pass
    const executions = [...this.#active.values()];
    const drained = Promise.all(executions.map((e) => e.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), drainMs);
    });
    if ((await Promise.race([drained, timedOut])) === "timeout") {
      await Promise.all([...this.#active.values()].map((e) => e.release()));
    }
    clearTimeout(timer);
    await this.#crashed.endLeases(executions, this.#renewal); // after it: it could extend them
    this.#cancelHeartbeat?.();
    await this.#store.workers.remove(this.id).catch(() => {});
    const unsubscribe = await this.#unsubscribe;
    await unsubscribe?.().catch(() => {});
    this.#untrap?.();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const pass = this.#wakes.begin();
      let free = this.freeSlots();
      let claimedAll = false;
      let failed = false;
      if (free > 0) {
        try {
          await this.#renewIfDue();
          await this.#hooks.beforeClaim?.(pass).catch((error) => {
            this.#hooks.onError(ensureError(error), "admitting runs and firing due schedules");
          });
          // Admissions before the claim may have taken slots (see `adopt`).
          free = this.freeSlots();
          if (pass.full) claimedAll = await this.#claim(free);
        } catch (error) {
          failed = true;
          this.#hooks.onError(ensureError(error), "claiming runs");
        }
      }
      if (!this.#running) break;
      if (claimedAll || this.#wakes.woken) {
        // More may be waiting; let the runs just claimed make progress first.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      // After a failed claim, wait a poll interval rather than retry due work at once.
      await this.#idle(free > 0 && !failed, pass.full);
    }
  }

  /** Claims up to `free` due runs and executes them; true when it took all `free`. */
  async #claim(free: number): Promise<boolean> {
    const claimStarted = this.#leases.now();
    const claimed = await this.#store.claimRuns(
      this.id,
      { ...this.#scope(), suspects: this.#takeovers.size > 0 ? 0 : 1 },
      this.#clock.now(),
      this.#config.leaseMs,
      free,
    );
    if (claimed.length > 0) {
      this.#hooks.emit({
        type: "claim",
        count: claimed.length,
        takeovers: claimed.filter((c) => c.takeover).length,
        latencyMs: performance.now() - claimStarted.real,
        at: this.#clock.now(),
      });
    }
    this.adopt(claimed, claimStarted);
    return claimed.length === free && free > 0;
  }

  /** Waits for a notify, the poll interval, or the next due run (as of the last full pass). */
  async #idle(hasFreeSlots: boolean, afterFullPass: boolean): Promise<void> {
    if (!afterFullPass) return this.#wakes.idle(this.#clock);
    let nextDue: number | null = null;
    if (hasFreeSlots) {
      try {
        nextDue = await this.#store.nextWakeAt(this.#scope());
      } catch (error) {
        this.#hooks.onError(ensureError(error), "reading the next wake-up time");
      }
    }
    if (!this.#running) return;
    const at = Math.min(
      this.#clock.now() + this.#config.pollMs,
      nextDue ?? Number.POSITIVE_INFINITY,
    );
    await this.#wakes.idle(this.#clock, at);
  }

  #scope() {
    const versions = this.#code?.claimKeys();
    return {
      workflows: [...this.#registry.keys()],
      queues: this.#config.queues,
      ...(versions ? { versions } : {}),
    };
  }

  /** True when this worker takes runs of `queue`. */
  servesQueue(queue: string): boolean {
    return this.#config.queues.includes(queue);
  }

  #execute(
    claimed: ClaimedRun,
    journal: readonly JournalEntry[] | Promise<readonly JournalEntry[]> | undefined,
    claimedAt: LeaseMoment,
  ): void {
    const runId = claimed.run.id;
    const previous = this.#active.get(runId);
    if (previous && previous.token >= claimed.token) return;
    const { workflow, workflowVersion } = claimed.run;
    const definition = this.#code
      ? this.#code.get(workflow, workflowVersion)
      : this.#registry.get(workflow);
    if (!definition) return; // claims are filtered by workflow and version; unreachable in practice
    if (claimed.takeover) this.#takeovers.add(runId);
    const start = async () => {
      if (previous) {
        // We claimed the run again while our earlier execution still ran (its lease lapsed
        // in a stall before the renewal could tell): the new claim supersedes it.
        previous.abort(new LeaseLostError(runId));
        await previous.done;
      }
      let entries: readonly JournalEntry[];
      if (Array.isArray(journal)) entries = journal;
      else {
        this.#loading++;
        try {
          entries = await (journal ?? this.#store.getJournal(runId));
        } catch (error) {
          await releaseUnrun(this.#env.writer, claimed, this.#clock.now(), this.#hooks);
          throw error;
        } finally {
          this.#loading--;
        }
      }
      const execution = new RunExecution(this.#env, claimed, definition, entries, () => {
        if (this.#leases.lapsed(execution)) this.#selfFenceIfExpired([execution]);
      });
      this.#active.set(runId, execution);
      this.#leases.claimed(execution, claimedAt);
      if (!this.#running) this.#crashed.drain(execution); // its journal loaded after stop() began
      this.#hooks.onStarted(claimed.run);
      const outcome = await tracer.startActiveSpan(
        `cairn.run ${claimed.run.workflow}`,
        { attributes: { "cairn.run_id": runId, "cairn.workflow": claimed.run.workflow } },
        async (span) => {
          const limit = definition.options.maxCrashes ?? this.#config.maxCrashes;
          const poison = poisonVerdict(claimed, entries, limit);
          const result = await (poison ? execution.failUnrun(poison) : execution.run());
          span.setAttribute("cairn.outcome", result.type);
          span.end();
          return result;
        },
      );
      // A settled run may let the loop claim more (it held the last slot) or wake it later
      // (a suspension's wake-up time), and a taken-over run's end lets it claim suspects
      // again: then a claim pass follows. A run that ended for good on a store whose wake-ups
      // we hear needs none: what it made claimable (a parent it woke, runs waiting for its
      // concurrency slot) is notified at its commit. The pass saved (schedules, admissions,
      // a claim, the next wake-up time) is four or five statements per finished run.
      const wasFull = this.activeCount >= this.#config.concurrency;
      if (this.#active.get(runId) === execution) this.#active.delete(runId);
      const wasTakeover = this.#takeovers.delete(runId);
      this.#hooks.onSettled(claimed.run, outcome);
      if (wasFull || wasTakeover || !this.#hearsWakeUps || !isFinal(outcome)) this.notify();
    };
    start().catch((error) => {
      this.#active.delete(runId);
      this.#takeovers.delete(runId);
      this.#hooks.onError(ensureError(error), `executing run ${runId}`);
      this.notify();
    });
  }

  #scheduleHeartbeat(): void {
    const interval = Math.max(10, Math.floor(this.#config.leaseMs / 3));
    const tick = () => {
      if (!this.#running && this.#active.size === 0) return;
      this.#cancelHeartbeat = this.#clock.setTimer(this.#clock.now() + interval, tick);
      if (this.#renewal) {
        // The last renewal has not answered (the network cut, the database frozen): it may
        // hang long after the lease ran out, so the leases are judged without it.
        this.#selfFenceIfExpired();
        return;
      }
      this.#beat();
      this.#renew().catch((error) => {
        this.#hooks.onError(ensureError(error), "renewing leases");
        this.#selfFenceIfExpired();
      });
    };
    this.#cancelHeartbeat = this.#clock.setTimer(this.#clock.now() + interval, tick);
  }

  /**
   * Writes this worker's row of the `workers` table (the web UI's Workers page). Three
   * missed beats and the row counts as gone. Best effort: it never delays the heartbeat.
   */
  #beat(): void {
    if (!this.#running) return;
    const row = { ...this.#config, id: this.id, workflows: [...this.#registry.keys()] };
    const at = this.#clock.now();
    beatWorkerRow(this.#store.workers, { ...row, startedAt: this.#startedAt }, at).catch((error) =>
      this.#hooks.onError(ensureError(error), "writing the worker heartbeat"),
    );
  }

  /**
   * The store has not confirmed these leases for a whole lease: another worker may own the
   * runs by now. Stop their steps rather than race it (a zombie must not keep working).
   * Judged by the heartbeat and, for one run, before each of its steps starts: a worker
   * resuming from a stall (a SIGSTOP, a long pause) runs what fell due meanwhile (a claim
   * answered just before it, a step whose turn came) before its heartbeat can judge.
   */
  #selfFenceIfExpired(executions: Iterable<RunExecution> = this.#active.values()): void {
    const now = this.#leases.now();
    const expired = [...executions].filter((e) => !e.settled && this.#leases.lapsed(e, now));
    if (expired.length === 0) return;
    for (const execution of expired) execution.abort(new LeaseLostError(execution.runId));
    this.#hooks.emit({
      type: "lease-expired",
      runIds: expired.map((e) => e.runId),
      at: this.#clock.now(),
    });
  }

  /**
   * Before a claim: this worker's own leases must be confirmed first, or a claim that
   * overtakes a renewal still in flight (another pooled connection) sees them lapsed and
   * takes this worker's own runs a second time, after a clock jump or a stall. A renewal
   * that hangs (the network cut) holds claims back for at most a third of a lease.
   */
  async #renewIfDue(): Promise<void> {
    if (this.#renewal) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#renewal.catch(() => {}), // the heartbeat reports its errors
        new Promise((resolve) => {
          timer = setTimeout(resolve, this.#config.leaseMs / 3);
        }),
      ]);
      clearTimeout(timer);
    } else if (this.#clock.now() - this.#lastRenewal >= this.#config.leaseMs / 3)
      await this.#renew();
  }

  /** One renewal at a time: a caller arriving while one is in flight shares it. */
  #renew(): Promise<void> {
    this.#renewal ??= this.#renewLeases().finally(() => {
      this.#renewal = undefined;
    });
    return this.#renewal;
  }

  async #renewLeases(): Promise<void> {
    const sentAt = this.#leases.now();
    const now = sentAt.engine;
    this.#lastRenewal = now;
    const held = [...this.#active.values()].filter((e) => !e.settled);
    const leases = held.map((e) => ({ runId: e.runId, token: e.token }));
    const lost = await this.#store.renewLeases(this.id, leases, now + this.#config.leaseMs);
    const extended = held.filter((e) => !lost.includes(e.runId));
    this.#leases.confirm(sentAt, extended);
    for (const runId of lost) {
      const token = leases.find((lease) => lease.runId === runId)?.token;
      const run = await this.#store.getRun(runId);
      // By now the run may have let go of that lease (suspended) and been claimed again by
      // this worker: only the execution under the lost token stops.
      this.abortRun(
        runId,
        run?.status === "cancelled" ? new RunCancelledError(runId) : new LeaseLostError(runId),
        token,
      );
    }
  }
}

/** The run ended for good: completed or failed. */
function isFinal(outcome: ExecutionOutcome): boolean {
  return outcome.type === "completed" || outcome.type === "failed";
}
