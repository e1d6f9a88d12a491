import { serialize } from "../core/serializer.ts";
import type { RunId } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import { versionOf } from "../core/workflow-version.ts";
import type { NewRun } from "../store/store.ts";
import { flowControlFor } from "./flow-control.ts";
import { idempotencyFor, type StartIdempotency } from "./idempotency.ts";
import { validateInput } from "./validate-input.ts";

/**
 * Where a run comes from. Every path that creates a run names itself here, so the builder
 * is the one place that decides which of the workflow's options apply.
 */
export type RunOrigin =
  | "start"
  | "child"
  | "event"
  | "schedule"
  | "admission"
  | "rerun"
  | "continue";

/** The options-derived columns of a new run: its deadline and its flow control. */
export type RunOptions = Pick<
  NewRun,
  | "deadlineAt"
  | "queue"
  | "priority"
  | "concurrency"
  | "rateLimit"
  | "debounce"
  | "workflowVersion"
  | "idempotency"
>;

/** The run's deadline: `now` plus the workflow's `timeout`, or none. */
export function deadlineFor(
  workflow: Workflow<unknown, unknown> | undefined,
  now: number,
): number | null {
  return workflow?.timeoutMs === undefined ? null : now + workflow.timeoutMs;
}

/**
 * The deadline, queue, priority, concurrency, rate limit and debounce of a run of `workflow`
 * with the (already validated) `input`. Synchronous, so a store transaction (the scheduler's
 * `fireDue`) can call it. Without the workflow's code nothing applies yet: such a run is
 * admitted later by a worker that has the code (origin `admission`).
 */
export function runOptionsFor(
  workflow: Workflow<unknown, unknown> | undefined,
  input: unknown,
  now: number,
  origin: RunOrigin,
  startIdempotency?: StartIdempotency,
): RunOptions {
  // Starts honour a key; a child or a rerun is awaited by its own id, and a scheduled run
  // is already unique per slot. A run admitted later exists already: its key was the start's.
  const keyed = origin === "start" || origin === "event";
  const idempotency = keyed
    ? { idempotency: idempotencyFor(startIdempotency ?? workflow?.options.idempotency, input) }
    : {};
  if (!workflow) return { deadlineAt: null, ...idempotency };
  const control = flowControlFor(workflow, input);
  return {
    deadlineAt: deadlineFor(workflow, now),
    workflowVersion: versionOf(workflow),
    ...control,
    ...idempotency,
    // A parent waits for its child by id (and a rerun's caller for the new id); a debounce
    // could fold the run into another of the same key, and they would wait forever.
    // A continuation is created as its run ends: folding it into another run would end the chain.
    ...(origin === "child" || origin === "rerun" || origin === "continue"
      ? { debounce: null }
      : {}),
  };
}

export interface RunRequest {
  id: RunId;
  /** The workflow's name; `workflow` when this process has its code. */
  name: string;
  workflow: Workflow<unknown, unknown> | undefined;
  input: unknown;
  origin: RunOrigin;
  now: number;
  /** Names the input in errors: `The input of child workflow "x"`. */
  label: string;
  payloadLimitBytes: number;
  parent?: { id: RunId; position: number; depth: number };
  /** A start's own `idempotency`, over the workflow's. */
  idempotency?: StartIdempotency;
}

/**
 * The one run builder: validates the input against the workflow's schema, serializes it
 * under the payload limit and applies every option of the workflow (`runOptionsFor`),
 * idempotency included: the stores honour `NewRun.idempotency` wherever they insert a start.
 * Start, `ctx.invoke`, event triggers and admission all create their rows here; schedules
 * and backfills, whose input is stored serialized, use `runOptionsFor` directly.
 * @throws CairnError `INVALID_INPUT`, `PAYLOAD_TOO_LARGE`
 */
export async function buildNewRun(request: RunRequest): Promise<NewRun> {
  const { workflow, origin, now, parent } = request;
  const valid = workflow ? await validateInput(workflow, request.input) : request.input;
  return {
    id: request.id,
    workflow: request.name,
    input: serialize(valid, request.label, request.payloadLimitBytes),
    createdAt: now,
    ...runOptionsFor(workflow, valid, now, origin, request.idempotency),
    ...(parent
      ? { parentId: parent.id, parentPosition: parent.position, depth: parent.depth }
      : {}),
    // A run started without the code waits unadmitted until a worker with the code admits it.
    ...(workflow ? {} : { admitted: false }),
  };
}
