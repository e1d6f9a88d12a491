import { CairnError } from "../core/errors.ts";
import { checkName } from "../core/names.ts";
import { deserialize } from "../core/serializer.ts";
import { timeOrderedId } from "../core/time-ordered-id.ts";
import type { RunId } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import type { JournalEntry, NewRun } from "../store/run-records.ts";
import type { RunStore } from "../store/run-store.ts";
import type { Engine } from "./engine.ts";
import { buildNewRun } from "./new-run.ts";

export interface RerunOptions {
  /** The key of the step (or wait) to execute again; every position before it is reused. */
  fromStep: string;
  /** New input; the original run's input when absent. Validated like a start's. */
  input?: unknown;
  /** The new run's id. (Default: a random UUID) */
  id?: string;
}

/** What a rerun creates: the new run, the journal entries it starts with, and its tags. */
export interface RerunPlan {
  run: NewRun;
  journal: JournalEntry[];
  tags: Record<string, string>;
}

/**
 * Plans a rerun of `runId` from step `fromStep`: a new run of the same workflow whose
 * journal starts with the original's final entries at positions before that step's, so the
 * workflow replays them (no side effects) and executes from the step on. The copy is by
 * journal position, also with new input: recorded outcomes before the step are returned as
 * they were, whatever the new input would have made of them. The new run is built like a
 * start (input validation, flow control, deadline); without the code here it waits for a
 * worker with the code to admit it.
 * @throws CairnError `RUN_NOT_FOUND`, `INVALID_ARGUMENT` (no such step), `INVALID_INPUT`.
 */
export async function planRerun(
  store: Pick<RunStore, "getRun" | "getJournal">,
  runId: string,
  options: RerunOptions,
  context: {
    definition: Workflow<unknown, unknown> | undefined;
    now: number;
    payloadLimitBytes: number;
  },
): Promise<RerunPlan> {
  if (!options || typeof options.fromStep !== "string" || options.fromStep === "") {
    throw new CairnError("INVALID_ARGUMENT", "A rerun needs `fromStep`: the key of a step.");
  }
  const original = await store.getRun(runId as RunId);
  if (!original) throw new CairnError("RUN_NOT_FOUND", `No run with id "${runId}".`);
  const journal = await store.getJournal(original.id);
  const from = journal.find((e) => e.key === options.fromStep);
  if (!from) {
    const keys = journal.map((e) => e.key);
    throw new CairnError(
      "INVALID_ARGUMENT",
      `Run "${runId}" has no step "${options.fromStep}" (its steps: ${keys.slice(0, 20).join(", ") || "none"}${keys.length > 20 ? ", …" : ""}).`,
    );
  }
  const id = checkName("run id", options.id ?? timeOrderedId()) as RunId;
  const copied = journal.filter(
    (e) => e.position < from.position && (e.status === "completed" || e.status === "failed"),
  );
  const tags = { rerunOf: original.id, rerunFromStep: from.key };
  const { definition, now, payloadLimitBytes } = context;
  const rawInput = "input" in options ? options.input : deserialize(original.input);
  // Built like a start; without the code here, a worker with it admits the run later.
  const run = await buildNewRun({
    id,
    name: original.workflow,
    workflow: definition,
    input: rawInput,
    origin: "rerun",
    now,
    label: `The input of workflow "${original.workflow}"`,
    payloadLimitBytes,
  });
  return { run, journal: copied, tags };
}

/**
 * Creates the rerun `planRerun` plans, with its copied journal in one transaction so no
 * worker claims it before its entries exist.
 */
export async function rerunRun(
  engine: Engine,
  runId: string,
  options: RerunOptions,
): Promise<{ id: RunId; workflow: string }> {
  engine.assertOpen();
  const original = await engine.store.getRun(runId as RunId);
  const plan = await planRerun(engine.store, runId, options, {
    // The journal reused is the original version's: so is the code, while it is registered.
    definition: original
      ? (engine.versions.get(original.workflow, original.workflowVersion) ??
        engine.registry.get(original.workflow))
      : undefined,
    now: engine.clock.now(),
    payloadLimitBytes: engine.payloadLimitBytes,
  });
  const run = await engine.store.createRunWithJournal(plan.run, plan.journal, plan.tags);
  engine.bus.emitRun(run.id, run.workflow, "queued", undefined, "created");
  engine.notify();
  return { id: run.id, workflow: run.workflow };
}
