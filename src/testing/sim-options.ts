import { type AnyWorkflow, isWorkflow } from "../core/workflow.ts";
import type { SimRun } from "./sim-client.ts";
import type { SimFaults } from "./sim-world.ts";

/**
 * Refuses options that would make a simulation prove nothing or fail obscurely, saying
 * which option is wrong and why.
 */
export function checkSimulateOptions(
  workflows: readonly AnyWorkflow[],
  options: {
    faults?: SimFaults | false;
    processes?: number;
    concurrency?: number;
    leaseMs?: number;
    pollMs?: number;
    turns?: number;
    startsWithoutCode?: boolean;
  },
): void {
  if (!Array.isArray(workflows) || workflows.length === 0 || !workflows.every(isWorkflow)) {
    throw new TypeError(
      "simulate: the first argument must list workflows made by defineWorkflow().",
    );
  }
  for (const key of ["processes", "concurrency", "leaseMs", "pollMs", "turns"] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new TypeError(`simulate: \`${key}\` must be a positive integer, got ${value}.`);
    }
  }
  const { startsWithoutCode } = options;
  if (startsWithoutCode !== undefined && typeof startsWithoutCode !== "boolean") {
    throw new TypeError(
      `simulate: \`startsWithoutCode\` must be true or false, got ${JSON.stringify(startsWithoutCode)}.`,
    );
  }
  if (options.faults) {
    for (const [name, rate] of Object.entries(options.faults)) {
      if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
        throw new TypeError(
          `simulate: \`faults.${name}\` must be a chance from 0 to 1, got ${rate}.`,
        );
      }
    }
  }
}

/** Each run must start a workflow the simulation was given. */
export function checkRuns(
  workflows: readonly AnyWorkflow[],
  runs: readonly SimRun[],
  seed: number,
): void {
  if (!Array.isArray(runs) || runs.length === 0) {
    throw new TypeError(`simulate: \`runs\` (seed ${seed}) must list at least one run to start.`);
  }
  const names = new Set(workflows.map((w) => w.name));
  runs.forEach((run, i) => {
    const name = typeof run?.workflow === "string" ? run.workflow : run?.workflow?.name;
    if (name === undefined || !names.has(name)) {
      throw new TypeError(
        `simulate: runs[${i}] (seed ${seed}) starts workflow "${name}", which is not among the workflows given (${[...names].join(", ")}).`,
      );
    }
  });
}
