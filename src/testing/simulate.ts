import type { AnyWorkflow } from "../core/workflow.ts";
import { checkWorld, type Reference } from "./sim-checks.ts";
import type { SimRun } from "./sim-client.ts";
import { checkRuns, checkSimulateOptions } from "./sim-options.ts";
import { SimRandom } from "./sim-random.ts";
import { type SimFaults, SimWorld, type WorldSettings, type WorldStats } from "./sim-world.ts";

export type { SimRun } from "./sim-client.ts";
export type { SimFaults, WorldStats as SimulationStats } from "./sim-world.ts";

export interface SimulateOptions {
  /** How many seeds to run (seeds 1 to n), or which. `SEED=n` in the environment runs that one only. */
  seeds: number | readonly number[];
  /** The runs each simulated world starts: a list, or a list per seed. */
  runs: readonly SimRun[] | ((seed: number) => readonly SimRun[]);
  /** Which faults strike and how often; `false` for none. (Default: all, see SimFaults) */
  faults?: SimFaults | false;
  /** Worker processes alive at once; a crashed one is replaced. (Default: 2) */
  processes?: number;
  /** Runs each worker executes at once. (Default: 8) */
  concurrency?: number;
  /** Lease length on the simulated clock, in ms. (Default: 15_000) */
  leaseMs?: number;
  /** How often an idle worker polls, on the simulated clock. (Default: 5_000) */
  pollMs?: number;
  /** Scheduler turns with faults in each world, before the faults stop. (Default: 24) */
  turns?: number;
  /**
   * Starts come from a process without the workflows' code, as from a `cairn server`: the
   * workers admit the runs (and take them in the admission's write) under the faults.
   * (Default: false, each start from a worker process)
   */
  startsWithoutCode?: boolean;
  /**
   * Called before every world (the one without faults too): reset the fakes of outside
   * systems your steps call, so each world starts from the same state.
   */
  setup?: (seed: number) => void | Promise<void>;
  /** Called after each seed: progress, or a log of each world. */
  onSeed?: (result: SeedResult) => void;
  /** Stop at the first seed that fails. (Default: false) */
  stopOnFailure?: boolean;
}

export interface SeedResult {
  seed: number;
  violations: string[];
  stats: WorldStats;
  /** Step bodies started in this world, and how many steps started more than once. */
  stepExecutions: number;
  repeatedSteps: number;
  /** Step bodies a stale owner (lease lost, not yet told) started after the outcome was recorded. */
  staleExecutions: number;
  /** A hash of every store call and fault of the world: the same seed gives the same trace. */
  trace: string;
}

export interface SimulationFailure {
  seed: number;
  violations: string[];
  /** The violations with the seed and how to replay it. */
  message: string;
}

export interface SimulationReport {
  seeds: number;
  failures: SimulationFailure[];
  elapsedMs: number;
  /** Totals over every seed. */
  totals: {
    runs: number;
    stepExecutions: number;
    repeatedSteps: number;
    staleExecutions: number;
    crashes: number;
    storageErrors: number;
    stalls: number;
    leaseJumps: number;
    takeovers: number;
    fencedWrites: number;
    /** Runs a worker's admission took in its own write (starts from a process without the code). */
    admissionClaims: number;
  };
  /** Errors the engines reported that the simulation did not inject (the first few). */
  engineErrors: string[];
}

const defaultFaults: Required<SimFaults> = {
  storageErrors: 0.01,
  crashes: 0.15,
  stalls: 0.05,
  leaseExpiry: 0.05,
  clockJumps: 0.02,
  lostWrites: 0,
};

const noFaults: Required<SimFaults> = {
  storageErrors: 0,
  crashes: 0,
  stalls: 0,
  leaseExpiry: 0,
  clockJumps: 0,
  lostWrites: 0,
};

/**
 * Runs `workflows` in many simulated worlds, one per seed: worker processes on a real
 * SQLite database that crash at store calls, lose their leases, stall and come back as
 * zombies, see store calls fail (some after the database applied them) and clock jumps.
 * After each world's faults stop and its runs settle, it checks that every run ended as
 * it does without faults, that no completed step ran again, that the journal holds one
 * outcome per step and that no sleep ended early. A failing seed replays with `SEED=<n>`.
 * While a world runs, `Math.random` is seeded and `performance.now()` follows its simulated
 * clock (process-wide: run nothing else alongside). SQLite only.
 * @example
 * const report = await simulate([checkout], {
 *   seeds: 200,
 *   runs: [{ workflow: checkout, input: { cart: "c1" } }],
 * });
 * expect(report.failures).toEqual([]);
 */
export async function simulate(
  workflows: readonly AnyWorkflow[],
  options: SimulateOptions,
): Promise<SimulationReport> {
  checkSimulateOptions(workflows, options);
  const seeds = seedList(options.seeds);
  const started = Date.now();
  const base = {
    workflows,
    processes: options.processes ?? 2,
    concurrency: options.concurrency ?? 8,
    leaseMs: options.leaseMs ?? 15_000,
    pollMs: options.pollMs ?? 5_000,
    turns: options.turns ?? 24,
    startsWithoutCode: options.startsWithoutCode ?? false,
  };
  const faults: Required<SimFaults> =
    options.faults === false ? noFaults : { ...defaultFaults, ...options.faults };
  const report: SimulationReport = {
    seeds: 0,
    failures: [],
    elapsedMs: 0,
    totals: {
      runs: 0,
      stepExecutions: 0,
      repeatedSteps: 0,
      staleExecutions: 0,
      crashes: 0,
      storageErrors: 0,
      stalls: 0,
      leaseJumps: 0,
      takeovers: 0,
      fencedWrites: 0,
      admissionClaims: 0,
    },
    engineErrors: [],
  };
  let staticReference: Reference | undefined;
  for (const seed of seeds) {
    const runs = typeof options.runs === "function" ? options.runs(seed) : options.runs;
    checkRuns(workflows, runs, seed);
    const settings: WorldSettings = { ...base, runs, faults };
    if (typeof options.runs === "function" || !staticReference) {
      await options.setup?.(0);
      staticReference = await referenceEnds(settings);
    }
    const reference = staticReference;
    await options.setup?.(seed);
    const result = await runSeed(seed, settings, reference);
    options.onSeed?.(result);
    report.seeds++;
    const t = report.totals;
    t.runs += reference.ends.size;
    t.stepExecutions += result.stepExecutions;
    t.repeatedSteps += result.repeatedSteps;
    t.staleExecutions += result.staleExecutions;
    t.crashes += result.stats.crashes;
    t.storageErrors += result.stats.storageErrors;
    t.stalls += result.stats.stalls;
    t.leaseJumps += result.stats.leaseJumps;
    t.takeovers += result.stats.takeovers;
    t.fencedWrites += result.stats.fencedWrites;
    t.admissionClaims += result.stats.admissionClaims;
    for (const error of result.stats.engineErrors) {
      if (report.engineErrors.length < 20) report.engineErrors.push(`seed ${seed}: ${error}`);
    }
    if (result.violations.length > 0) {
      report.failures.push({
        seed,
        violations: result.violations,
        message: `Simulation seed ${seed} failed (replay it with SEED=${seed}):\n- ${result.violations.join("\n- ")}`,
      });
      if (options.stopOnFailure) break;
    }
  }
  report.elapsedMs = Date.now() - started;
  return report;
}

/** One world with faults, from its seed to its checks. */
async function runSeed(
  seed: number,
  settings: WorldSettings,
  reference: Reference,
): Promise<SeedResult> {
  const world = new SimWorld(settings, new SimRandom(seed));
  const restoreRandom = seedMathRandom(seed);
  const restoreTime = followClock(world.clock);
  try {
    await world.open();
    for (let turn = 0; turn < settings.turns; turn++) await world.turn();
    const healed = await world.heal();
    const violations = await checkWorld(world, reference, healed);
    return {
      seed,
      violations,
      stats: world.stats,
      stepExecutions: world.ledger.executions,
      repeatedSteps: world.ledger.repeatedSteps,
      staleExecutions: world.ledger.staleExecutions,
      trace: world.trace,
    };
  } finally {
    await world.close();
    restoreRandom();
    restoreTime();
  }
}

/**
 * Makes `performance.now()` follow the simulated clock while a world runs. The engine reads
 * elapsed real time in two places: how long a group commit may wait for more writes (1 ms),
 * and how long a worker went without its leases confirmed (it then stops its steps). On a
 * busy machine the first made the same seed batch its commits differently from one run to
 * the next; in a world where all time is simulated, both follow the simulated clock.
 */
function followClock(clock: { now(): number }): () => void {
  const start = clock.now();
  // Whole milliseconds: with a fractional base, the same simulated lapse came out a hair
  // under or over the lease depending on the real start (float rounding), so a worker
  // stopped its steps in one replay of a seed and not in the other.
  const base = Math.ceil(performance.now());
  performance.now = () => base + (clock.now() - start);
  return () => {
    Reflect.deleteProperty(performance, "now");
  };
}

/**
 * Seeds `Math.random` while a world runs: retry jitter draws from it, and so may the user's
 * code. Returns the function that puts the real one back.
 */
function seedMathRandom(seed: number): () => void {
  const real = Math.random;
  const seeded = new SimRandom(seed ^ 0x5eed);
  Math.random = () => seeded.next();
  return () => {
    Math.random = real;
  };
}

/** How every run ends in the same world without faults and with one worker. */
async function referenceEnds(settings: WorldSettings): Promise<Reference> {
  const world = new SimWorld({ ...settings, faults: noFaults, processes: 1 }, new SimRandom(0));
  const restoreRandom = seedMathRandom(0);
  const restoreTime = followClock(world.clock);
  try {
    await world.open();
    if (!(await world.heal())) {
      throw new Error(
        "simulate: without any fault, these runs never settle (each must end or wait for input nobody sends).",
      );
    }
    if (world.refused.length > 0) {
      throw new Error(
        `simulate: without any fault, the engine refused the client's ${world.refused[0]}. Every event and signal in \`runs\` must be one its run takes.`,
      );
    }
    return { ends: await world.ends(), refused: world.refused };
  } finally {
    await world.close();
    restoreRandom();
    restoreTime();
  }
}

function seedList(seeds: number | readonly number[]): number[] {
  const replay = process.env.SEED;
  if (replay !== undefined && replay !== "") {
    const seed = Number(replay);
    if (!Number.isInteger(seed) || seed < 0) {
      throw new Error(`SEED must be a non-negative integer, got "${replay}".`);
    }
    return [seed];
  }
  if (typeof seeds === "number") {
    if (!Number.isInteger(seeds) || seeds < 1) {
      throw new Error(`simulate: \`seeds\` must be a positive integer or a list, got ${seeds}.`);
    }
    return Array.from({ length: seeds }, (_, i) => i + 1);
  }
  return [...seeds];
}
