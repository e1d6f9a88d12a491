import { createHash } from "node:crypto";
import { maxNameLength } from "../core/names.ts";
import type { RunId } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import type { ClaimedRun, NewRun, RunRecord } from "../store/store.ts";
import type { Engine } from "./engine.ts";
import { buildNewRun } from "./new-run.ts";

/**
 * The successor a `ctx.continueAsNew(input)` creates, built like every run (the one run
 * builder): the input validated against the workflow's schema, the workflow's options
 * applied afresh (deadline from now, queue, priority, concurrency, rate limit; no
 * debounce), the parent link of a child kept. The store creates it when it completes the
 * run (the `continue` journal op), in one transaction.
 * @throws CairnError `INVALID_INPUT`, `PAYLOAD_TOO_LARGE` — into the workflow, at the call.
 */
export async function buildSuccessor(
  engine: Engine,
  claimed: ClaimedRun,
  workflow: Workflow<unknown, unknown>,
  input: unknown,
): Promise<NewRun> {
  const { run } = claimed;
  return buildNewRun({
    id: successorRunId(run),
    name: run.workflow,
    workflow,
    input,
    origin: "continue",
    now: engine.clock.now(),
    label: `The input of ctx.continueAsNew in run "${run.id}"`,
    payloadLimitBytes: engine.payloadLimitBytes,
    ...(run.parentId !== null && run.parentPosition !== null
      ? { parent: { id: run.parentId, position: run.parentPosition, depth: run.depth } }
      : {}),
  });
}

/**
 * `order-sync` → `order-sync~2` → `order-sync~3`: the lineage's first id and the run's
 * number in it. The same run always names the same successor, so a continuation retried
 * after a crash is one run. Past 256 characters it ends in a hash, as child ids do.
 */
export function successorRunId(run: Pick<RunRecord, "id" | "continuedFrom">): RunId {
  const numbered = run.continuedFrom === null ? null : /^(.*)~(\d{1,9})$/.exec(run.id);
  const id = numbered ? `${numbered[1]}~${Number(numbered[2]) + 1}` : `${run.id}~2`;
  if (id.length <= maxNameLength) return id as RunId;
  const hash = createHash("sha256").update(id).digest("hex").slice(0, 16);
  let head = id.slice(0, maxNameLength - hash.length - 1);
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  return `${head}~${hash}` as RunId;
}
