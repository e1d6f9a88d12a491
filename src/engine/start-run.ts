import { CairnError } from "../core/errors.ts";
import { sameSerialized } from "../core/same-serialized.ts";
import type { RunId } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import type { RunRecord } from "../store/run-records.ts";
import { leaseMoment } from "../worker/lease-watch.ts";
import { userWorkflowNames } from "./built-in-workflows.ts";
import { directClaim } from "./direct-claim.ts";
import type { Engine } from "./engine.ts";
import type { StartIdempotency } from "./idempotency.ts";
import { buildNewRun } from "./new-run.ts";

/** What a start carries besides its input and id. */
export interface StartExtras {
  tags?: Record<string, string>;
  /** Over the workflow's own `idempotency`. */
  idempotency?: StartIdempotency;
}

/** What a start did: created the run, or found one with this id (with this input or not). */
export interface StartedRun {
  id: RunId;
  workflow: string;
  created: boolean;
  /** False when an existing run was returned whose stored input differs from this start's. */
  inputMatches: boolean;
  /** The new run's row as the insert wrote it; absent when an existing run was returned. */
  record?: RunRecord;
}

/**
 * Starts a run, or returns the existing one when `id` is taken (G5) or when its idempotency
 * key is held by a run created within the key's window. The input is
 * validated against the workflow's schema first; invalid input creates nothing.
 * @throws CairnError `WORKFLOW_NOT_FOUND`, `INVALID_INPUT`, `PAYLOAD_TOO_LARGE`.
 */
export async function startRun(
  engine: Engine,
  workflow: Workflow<unknown, unknown> | string,
  input: unknown,
  id: RunId,
  extras: StartExtras = {},
): Promise<StartedRun> {
  const { tags } = extras;
  if (typeof workflow === "string" && !engine.registry.has(workflow)) {
    return startWithoutCode(engine, workflow, input, id, extras);
  }
  // A flow's input schema and options come from its latest version, maybe deployed elsewhere.
  if (typeof workflow === "string" && engine.flows.has(workflow)) await engine.flows.refreshIfDue();
  const definition = engine.resolve(workflow);
  // Before the clock is read for a lease's end: the worker's view of it must not start later.
  const claimedAt = leaseMoment(engine.clock);
  const now = claimedAt.engine;
  const newRun = await buildNewRun({
    id,
    name: definition.name,
    workflow: definition,
    input,
    origin: "start",
    now,
    label: `The input of workflow "${definition.name}"`,
    payloadLimitBytes: engine.payloadLimitBytes,
    ...(extras.idempotency ? { idempotency: extras.idempotency } : {}),
  });
  // A local worker with a free slot takes the run in the same write: no claim round trip.
  const worker = engine.worker;
  const claim =
    (worker?.freeSlots() ?? 0) > 0 ? directClaim(engine, definition, newRun.queue, now) : undefined;
  const { run, created } = await engine.store.createRun(newRun, claim);
  if (created && tags) await engine.store.tags.set(run.id, tags);
  if (created) engine.bus.emitRun(run.id, run.workflow, "queued", undefined, "created");
  if (created && claim && worker) {
    worker.adopt([{ run, token: run.fencingToken, journalEmpty: true }], claimedAt);
  } else if (created) engine.notify();
  return startedRun(run, newRun, created);
}

/**
 * Starts a workflow this process has no code for, by a name some worker registered: the
 * run waits unadmitted until a worker with the code validates its input and applies its
 * options (`admitPending`).
 */
async function startWithoutCode(
  engine: Engine,
  name: string,
  input: unknown,
  id: RunId,
  extras: StartExtras,
): Promise<StartedRun> {
  const { tags } = extras;
  // A flow deployed by another process since the last look: looked for at once when no
  // worker registered the name, otherwise at most every second, as for any start of a flow.
  const registered = await engine.remoteWorkflows.has(name);
  await (registered ? engine.flows.refreshIfDue() : engine.flows.refresh());
  if (engine.registry.has(name)) return startRun(engine, name, input, id, extras);
  if (!registered) {
    const local = userWorkflowNames(engine.registry.keys());
    throw new CairnError(
      "WORKFLOW_NOT_FOUND",
      `Unknown workflow "${name}": no worker has registered it (registered here: ${local.join(", ") || "none"}).`,
    );
  }
  const newRun = await buildNewRun({
    id,
    name,
    workflow: undefined,
    input,
    origin: "start",
    now: engine.clock.now(),
    label: `The input of workflow "${name}"`,
    payloadLimitBytes: engine.payloadLimitBytes,
    // Without the code only the start's own key applies; the workflow's is not known here.
    ...(extras.idempotency ? { idempotency: extras.idempotency } : {}),
  });
  const { run, created } = await engine.store.createRun(newRun);
  if (created && tags) await engine.store.tags.set(run.id, tags);
  if (created) engine.bus.emitRun(run.id, run.workflow, "queued", undefined, "created");
  return startedRun(run, newRun, created);
}

/**
 * The outcome of a start. Inputs compare in their stored (validated, serialized) form; a
 * debounced start hands its input to the run it joins, so that one matches by construction.
 */
function startedRun(
  run: RunRecord,
  newRun: { input: string | null },
  created: boolean,
): StartedRun {
  const inputMatches = created || sameSerialized(run.input, newRun.input);
  return {
    id: run.id,
    workflow: run.workflow,
    created,
    inputMatches,
    ...(created ? { record: run } : {}),
  };
}
