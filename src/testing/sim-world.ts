import { ensureError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { AnyWorkflow, Workflow } from "../core/workflow.ts";
import { openStore } from "../engine/open-store.ts";
import { Cairn } from "../sdk/cairn.ts";
import type { ClaimScope, Store } from "../store/store.ts";
import { type ClientOp, clientOpsFor, type SimRun } from "./sim-client.ts";
import { instrumentWorkflow, SimLedger } from "./sim-ledger.ts";
import { SimProcess } from "./sim-process.ts";
import type { SimRandom } from "./sim-random.ts";
import {
  type CallFault,
  faultyStoreView,
  SimulatedCrash,
  SimulatedStorageError,
} from "./sim-store.ts";
import { TestClock } from "./test-clock.ts";

/** How often each fault strikes; 0 turns one off. */
export interface SimFaults {
  /** Chance that a store call fails, half of them after the database applied it. (Default: 0.01) */
  storageErrors?: number;
  /** Chance per scheduler turn that a worker is set to crash at one of its next store calls. (Default: 0.15) */
  crashes?: number;
  /** Chance per turn that a worker stalls (or a stalled one resumes), like a frozen process. (Default: 0.05) */
  stalls?: number;
  /** Chance per turn that the clock jumps past the lease: leases expire and are taken over. (Default: 0.05) */
  leaseExpiry?: number;
  /** Chance per turn that the clock jumps 10 minutes ahead. (Default: 0.02) */
  clockJumps?: number;
  /**
   * Chance that a journal commit is acknowledged but never written: a broken database.
   * Only to prove the checks catch what it causes. (Default: 0)
   */
  lostWrites?: number;
}

export interface WorldSettings {
  workflows: readonly AnyWorkflow[];
  runs: readonly SimRun[];
  faults: Required<SimFaults>;
  /** Worker processes alive at once (crashed ones are replaced). */
  processes: number;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  /** Scheduler turns with faults before the world heals. */
  turns: number;
  /** Starts go through a process without the code (see `SimulateOptions`). */
  startsWithoutCode: boolean;
}

/** What one run ended as: what the checks compare with a run of the world without faults. */
export interface RunEnd {
  status: string;
  output: string | null;
  error: string | null;
}

export interface WorldStats {
  crashes: number;
  storageErrors: number;
  stalls: number;
  leaseJumps: number;
  clockJumps: number;
  fencedWrites: number;
  takeovers: number;
  /** Runs an admission leased to its worker in the same write (as the database applied it). */
  admissionClaims: number;
  /** Errors the engine reported that the simulation did not inject. */
  engineErrors: string[];
}

const idle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One simulated deployment: a real SQLite database in memory, worker processes on it (each
 * a real engine and worker), a clock only the scheduler moves, and a client that starts
 * runs and sends their events and signals. Every choice comes from `random`.
 */
export class SimWorld {
  readonly settings: WorldSettings;
  readonly random: SimRandom;
  readonly clock = new TestClock();
  readonly ledger = new SimLedger();
  readonly stats: WorldStats = {
    crashes: 0,
    storageErrors: 0,
    stalls: 0,
    leaseJumps: 0,
    clockJumps: 0,
    fencedWrites: 0,
    takeovers: 0,
    admissionClaims: 0,
    engineErrors: [],
  };
  /** Client requests the engine refused (not a fault the simulation injected). */
  readonly refused: string[] = [];
  /** Start requests repeated on purpose after one succeeded, that created a second run. */
  readonly duplicateStarts: string[] = [];
  /** Events the engine acknowledged to the client: each must be stored, once. */
  readonly acknowledgedEvents = new Set<string>();
  readonly processes: SimProcess[] = [];
  #store: Store | undefined;
  #ops: ClientOp[] = [];
  /** The engine without the code that sends the starts, when `startsWithoutCode`. */
  #codeless: Cairn | undefined;
  #activity = 0;
  /** A running hash of every store call and the fault drawn for it: equal traces, equal worlds. */
  #trace = 0x811c9dc5;
  #named = 0;
  readonly #faultRandom: SimRandom;
  readonly #scope: ClaimScope;

  constructor(settings: WorldSettings, random: SimRandom) {
    this.settings = settings;
    this.random = random;
    this.#faultRandom = random.fork(1);
    const queues = new Set(settings.workflows.map((w) => w.options.queue ?? "default"));
    this.#scope = { workflows: settings.workflows.map((w) => w.name), queues: [...queues] };
  }

  get store(): Store {
    if (!this.#store) throw new Error("The simulated world is not open.");
    return this.#store;
  }

  async open(): Promise<void> {
    this.#store = await openStore("sqlite::memory:");
    for (let i = 0; i < this.settings.processes; i++) await this.startProcess();
    this.#ops = clientOpsFor(this.settings.runs, this.random.fork(2));
    // No faults of its own: what is under test is the workers' admission of its runs.
    if (this.settings.startsWithoutCode) {
      this.#codeless = await Cairn.open({ store: this.store, clock: this.clock, drainMs: 0 });
    }
  }

  async close(): Promise<void> {
    for (const process of this.processes) if (!process.dead) await this.#stop(process);
    await this.#codeless?.close();
    await this.#store?.close();
  }

  /** Opens one more worker process on the database. */
  async startProcess(): Promise<SimProcess> {
    const process = new SimProcess(`worker-${++this.#named}`);
    this.processes.push(process);
    const store = faultyStoreView(this.store, process, {
      activity: () => this.#activity++,
      fault: (p, method) => this.#traced(p, method, this.#drawFault(method)),
      crash: (p) => this.crash(p),
      recorded: (runId, key) => this.ledger.recorded(runId, key),
      fenced: () => this.stats.fencedWrites++,
      journalRead: (runId) => this.ledger.journalRead(process.name, runId),
      admissionClaims: (runs) => {
        this.stats.admissionClaims += runs;
      },
    });
    const cairn = await Cairn.open({
      store,
      clock: process.clockOver(this.clock),
      workflows: this.settings.workflows.map((w) =>
        instrumentWorkflow(w as Workflow<unknown, unknown>, process, this.ledger),
      ),
      leaseMs: this.settings.leaseMs,
      pollMs: this.settings.pollMs,
      maxCrashes: 1_000_000, // crashes here are the simulation's, not a poison step's
      drainMs: 0,
      onError: (error, context) => this.#engineError(process, error, context),
      onUncaughtError: (error) => this.#engineError(process, error, "uncaught"),
    });
    process.cairn = cairn;
    cairn.subscribe((event) => {
      if (event.type === "claim") this.stats.takeovers += event.takeovers;
    });
    await cairn.worker({
      concurrency: this.settings.concurrency,
      queues: this.#scope.queues as string[],
    });
    process.armed = true;
    return process;
  }

  /** Kills a process (see SimProcess.kill); its engine is then shut down in the background. */
  crash(process: SimProcess): void {
    if (process.dead) return;
    this.stats.crashes++;
    process.kill();
    void this.#stop(process);
  }

  async #stop(process: SimProcess): Promise<void> {
    process.kill();
    // Its store calls now all fail: closing only unhooks it from the process (error traps).
    await process.cairn?.close().catch(() => {});
  }

  get live(): SimProcess[] {
    return this.processes.filter((p) => !p.dead);
  }

  /** One scheduler turn with faults: moves the clock, injects a fault, or sends client input. */
  async turn(): Promise<void> {
    const { faults, leaseMs } = this.settings;
    const r = this.random;
    const live = this.live;
    if (live.length < this.settings.processes && r.chance(0.5)) await this.startProcess();
    if (r.chance(faults.crashes)) {
      const victim = r.pick(this.live);
      if (victim && !victim.crashArmed)
        victim.armCrash(r.int(0, 12), r.chance(0.5) ? "before" : "after");
    }
    if (r.chance(faults.stalls)) {
      const target = r.pick(this.live);
      if (target?.stalled) target.resume();
      else if (target && this.live.filter((p) => !p.stalled).length > 1) {
        target.stalled = true;
        this.stats.stalls++;
      }
    }
    if (r.chance(faults.leaseExpiry)) {
      this.stats.leaseJumps++;
      this.clock.advance(leaseMs + r.int(1, leaseMs));
    } else if (r.chance(faults.clockJumps)) {
      this.stats.clockJumps++;
      this.clock.advance("10m");
    } else if (r.chance(0.5)) {
      this.clock.advance(r.int(1, Math.floor(leaseMs / 3)));
    } else {
      await this.#advanceToNextWake();
    }
    if (r.chance(0.4)) await this.#sendClientOps(r.int(1, 3));
    await this.settle();
  }

  /**
   * Faults end: stalled processes resume, a worker is up, every client request is sent, and
   * time moves from one due wake-up to the next until every run ended or waits for input
   * nobody sends. Returns false when runs still are not settled after that.
   */
  async heal(maxRounds = 200): Promise<boolean> {
    for (const process of this.processes) {
      process.armed = false;
      if (process.stalled) process.resume();
    }
    if (this.live.length === 0) await this.startProcess();
    for (const process of this.live) process.armed = false;
    for (let round = 0; round < maxRounds; round++) {
      await this.#sendClientOps(this.#ops.length);
      await this.settle();
      if (this.#ops.length === 0 && (await this.#settled())) return true;
      await this.#advanceToNextWake();
    }
    return false;
  }

  /** Lets the engines run until nothing happens for a few event-loop turns. */
  async settle(maxTurns = 2_000): Promise<void> {
    let quiet = 0;
    let last = -1;
    for (let i = 0; i < maxTurns && quiet < 3; i++) {
      await idle();
      if (this.#activity === last) quiet++;
      else {
        quiet = 0;
        last = this.#activity;
      }
    }
  }

  /** Every run of the database with how it ended (or where it stands). */
  async ends(): Promise<Map<string, RunEnd>> {
    const runs = await this.store.listRuns({ limit: 100_000 });
    const ends = new Map<string, RunEnd>();
    for (const run of runs) {
      ends.set(run.id, { status: run.status, output: run.output, error: errorSummary(run.error) });
    }
    return ends;
  }

  async #settled(): Promise<boolean> {
    const runs = await this.store.listRuns({ limit: 100_000 });
    return runs.every(
      (run) =>
        run.status === "completed" ||
        run.status === "failed" ||
        run.status === "cancelled" ||
        (run.status === "waiting" && run.availableAt === null),
    );
  }

  async #advanceToNextWake(): Promise<void> {
    const now = this.clock.now();
    const next = await this.store.nextWakeAt(this.#scope);
    this.clock.set(next !== null && next > now ? next : now + this.settings.pollMs);
  }

  async #sendClientOps(count: number): Promise<void> {
    for (let sent = 0; sent < count && this.#ops.length > 0; sent++) {
      const sender = this.random.pick(this.live.filter((p) => !p.stalled));
      const op = this.#ops[0];
      if (!sender?.cairn || !op) return;
      try {
        const cairn = op.start && this.#codeless ? this.#codeless : sender.cairn;
        const repeat = await op.send(cairn, op.again === true);
        this.#ops.shift();
        if (repeat === "created-again") this.duplicateStarts.push(op.describe);
        if (op.eventId !== undefined) this.acknowledgedEvents.add(op.eventId);
        if (op.repeat && this.random.chance(0.3))
          this.#ops.push({ ...op, repeat: false, again: true });
      } catch (error) {
        if (isSimulated(error)) {
          await this.settle(); // sent again later, as a client retries
          continue;
        }
        // The engine refused it (a signal to a run that already ended): the client gives up.
        this.#ops.shift();
        this.refused.push(`${op.describe}: ${ensureError(error).message}`);
      }
    }
  }

  get trace(): string {
    return (this.#trace >>> 0).toString(16).padStart(8, "0");
  }

  #traced(process: SimProcess, method: string, fault: CallFault): CallFault {
    const text = `${process.name} ${method} ${fault} ${this.clock.now()};`;
    for (let i = 0; i < text.length; i++) {
      this.#trace = Math.imul(this.#trace ^ text.charCodeAt(i), 0x01000193);
    }
    return fault;
  }

  #drawFault(method: string): CallFault {
    const { storageErrors, lostWrites } = this.settings.faults;
    const r = this.#faultRandom;
    if (method === "commit" && r.chance(lostWrites)) return "acknowledged-but-lost";
    if (!r.chance(storageErrors)) return "none";
    this.stats.storageErrors++;
    return r.chance(0.5) ? "fail-before" : "fail-after";
  }

  #engineError(process: SimProcess, error: Error, context: string): void {
    if (process.dead || isSimulated(error)) return;
    if (/lease|fenced|no longer|CLOSED|shutting down/i.test(`${error.name} ${error.message}`))
      return;
    if (this.stats.engineErrors.length < 20) {
      this.stats.engineErrors.push(`${process.name}, ${context}: ${ensureError(error).message}`);
    }
  }

  /** Runs the client started, by id. */
  get runIds(): RunId[] {
    return this.settings.runs.map((run, i) => (run.id ?? `run-${i}`) as RunId);
  }
}

function isSimulated(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof SimulatedCrash || e instanceof SimulatedStorageError) return true;
  }
  return false;
}

/** A run's error without its stack (which differs from one process to the next). */
function errorSummary(error: string | null): string | null {
  if (error === null) return null;
  try {
    const parsed = JSON.parse(error) as { name?: string; message?: string };
    return `${parsed.name ?? "Error"}: ${parsed.message ?? ""}`;
  } catch {
    return error;
  }
}
